"""``python -m ehpjax``: a short demo, the currents of the paper's two-level model."""

import ehpjax


def main() -> None:
    junction = ehpjax.Junction.two_level(eps_L=10.5, eps_R=9.5, gamma_L=0.5, gamma_R=0.5, m=0.5)
    modes = ehpjax.Modes.single(omega=1.0, gamma_ph=0.5)
    for title, baths in [
        ("Fig. 3/4 situation: mu_L = mu_R = 10, T_e = 0.7, T_ph = 0.3", ehpjax.Baths(10.0, 10.0, 0.7, 0.3)),
        ("Fig. 5 situation: mu0 = 10, V = -1, T_e = T_ph = 0.2 (electronic cooling)", ehpjax.Baths.biased(-1.0, 10.0, 0.2)),
    ]:
        print(f"\n{title}  (units hbar*Omega = k_B = e = 1)")
        print(ehpjax.currents(junction, modes, baths))


if __name__ == "__main__":
    main()
