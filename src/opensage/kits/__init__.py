"""Kits: named toolsets an agent can be given (`Agent(kits=[...])`, recorded by name so a resumed
run gets them back)."""
