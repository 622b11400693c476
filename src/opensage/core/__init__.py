"""The core runtime: tools, the agent loop, the event log and budgets. It knows no feature."""
