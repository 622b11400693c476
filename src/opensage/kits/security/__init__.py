"""The security kit's executors: sanitizer builds, proof-of-concept inputs, fuzzing and crash
triage, every command in the sandbox."""
