"""The package's input-error class: raised for bad user input (the CLI prints it as one line)."""


class EhpjaxError(ValueError):
    """Invalid input to ehpjax (a parameter, a file, a setting); the message names what is wrong."""
