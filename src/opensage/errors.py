"""Errors that any layer may raise, kept apart so that raising one imports nothing else."""


class ConfigError(Exception):
    """A model spec, profile, configuration value, setup step or state file is wrong; the
    message says what is wrong, where, and how to fix it."""
