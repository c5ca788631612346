"""The ordered steps of `up`. Each is small and announces itself."""
