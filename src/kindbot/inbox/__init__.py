"""The agents' inbox: agents, and what an agent does with a handed-off conversation."""
