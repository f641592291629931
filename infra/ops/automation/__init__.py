"""Operations that drive `pulumi` through its Automation API (they need the CLI and credentials)."""


class OperationError(RuntimeError):
    """An operation that could not run or did not finish; the message says what to do.

    Here, not beside the SDK's import: the command line catches it without loading the SDK.
    """
