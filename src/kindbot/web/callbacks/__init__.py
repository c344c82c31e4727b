"""Channel callbacks: the platforms' pushes into kindbot, answered within their budgets."""
