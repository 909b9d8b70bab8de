"""The domain's exceptions: a user mistake raises one of these with a message fit to show as is."""


class ClinicError(Exception):
    """Base of errors whose message is meant for the person using the system."""


class NotFound(ClinicError):
    """The thing asked for does not exist."""


class ValidationFailed(ClinicError):
    """Input was refused; the message names the bad value and what is allowed."""
