"""The software-engineering kit: view, edit, search, test, debug and patch a repository.

Each module holds the executors of one job (edit, patch, diff, search, code, tests, debug,
processes); every command they run runs in the sandbox, and every file they touch on the host is
opened through the files kit's no-symlink-escape rules.
"""
