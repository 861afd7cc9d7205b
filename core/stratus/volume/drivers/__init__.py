"""The volume backends the core ships (entry points ``stratus.volume``): ``file``."""
