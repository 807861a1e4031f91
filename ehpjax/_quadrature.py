"""The frequency integral ∫_0^∞ dω of the currents (SPEC 5): composite Gauss–Kronrod.

The energy integral inside Λ is done exactly (``_ehp.py``); only the ω integral needs
nodes. The integrand is smooth (analytic near the real axis) except for peaks whose
positions and widths are known from the poles: the modes' resonances (poles of D^r)
and the electronic ones at ω = Re(z_k − z_p). Panels are cut at each such centre c and
at c ± s·w for the scales s of ``feature_scales``, and at the thermal scales around 0
and |V|; each panel gets a 7/15-point Gauss–Kronrod pair, whose difference is the
error estimate. Panel ends need no gradient: moving an interior break point does not
change the integral.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

# QUADPACK's 15-point Kronrod nodes on [−1, 1] (positive half, last is 0) and weights,
# and the weights of the embedded 7-point Gauss rule (on xgk[1::2]).
_XGK = np.array([
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.0,
])
_WGK = np.array([
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
])
_WG = np.array([0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                0.381830050505118944950369775488975, 0.417959183673469387755102040816327])


def _full_rule():
    nodes = np.concatenate([-_XGK[:-1], _XGK[::-1]])
    kronrod = np.concatenate([_WGK[:-1], _WGK[::-1]])
    gauss_half = np.zeros(8)
    gauss_half[1::2] = _WG
    gauss = np.concatenate([gauss_half[:-1], gauss_half[::-1]])
    return nodes, kronrod, gauss


_NODES, _W_KRONROD, _W_GAUSS = _full_rule()


class FrequencyQuadrature(eqx.Module):
    """Settings of the ω integral (immutable; pass ``quadrature=`` to ``currents``).

    cutoff: ω_max = |V| + cutoff · max(T_e, T_ph) (the integrand decays as e^(−ω/T) beyond |V|).
    feature_scales: panels are cut at c ± s·w around every resonance (centre c, half-width w).
    thermal_scales: and at s·T (T = T_e, T_ph), |V| ± s·T_e and |V| + s·T_ph (the Bose tails).
    rtol: warn when the estimated error exceeds rtol·|J| (+ a small absolute floor).
    """

    cutoff: float = eqx.field(static=True, default=45.0)
    feature_scales: tuple = eqx.field(static=True, default=(1.0, 4.0))
    thermal_scales: tuple = eqx.field(static=True, default=(1.0, 3.0, 7.0, 14.0, 25.0))
    rtol: float = eqx.field(static=True, default=1e-7)
    warn: bool = eqx.field(static=True, default=True)

    def breakpoints(self, features, V_abs, T_e, T_ph):
        """Sorted panel ends in [0, ω_max]; features: (centres, half-widths) arrays."""
        centres, widths = features
        omega_max = V_abs + self.cutoff * jnp.maximum(T_e, T_ph)
        points = [jnp.zeros(1), omega_max[None], V_abs[None], centres]
        for s in self.feature_scales:
            points += [centres - s * widths, centres + s * widths]
        for s in self.thermal_scales:
            points += [jnp.stack([s * T_e, s * T_ph, V_abs - s * T_e, V_abs + s * T_e, V_abs + s * T_ph])]
        points = jnp.clip(jnp.concatenate(points), 0.0, omega_max)
        return jnp.sort(jax.lax.stop_gradient(points))

    def nodes(self, features, V_abs, T_e, T_ph):
        """Nodes and (Kronrod, Gauss) weights, each of shape (P·15,)."""
        edges = self.breakpoints(features, V_abs, T_e, T_ph)
        lo, hi = edges[:-1, None], edges[1:, None]
        half = 0.5 * (hi - lo)
        omega = (lo + half * (1.0 + _NODES)).ravel()
        return omega, (half * _W_KRONROD).ravel(), (half * _W_GAUSS).ravel()
