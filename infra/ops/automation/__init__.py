"""Operations that drive `pulumi` through its Automation API (they need the CLI and credentials)."""
