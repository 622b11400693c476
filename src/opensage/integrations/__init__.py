"""OpenSage agents inside other harnesses.

    harbor          an OpenSage agent as a Harbor agent (Terminal-Bench 2.0); needs `harbor`
    environment     a `Sandbox` over another harness's environment (its `exec`)
    sandbox_files   the files kit's tools through the sandbox, for files that are not on the host

Only `harbor` imports the harness it adapts to; import it only where that is installed.
"""
