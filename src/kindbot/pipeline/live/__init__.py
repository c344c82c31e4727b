"""Live updates of conversations (the agents' inbox), across processes with Redis."""
