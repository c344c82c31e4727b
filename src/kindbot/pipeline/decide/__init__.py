"""Decide: what to answer — knowledge base, flows, handlers, generative answers — with their I/O."""
