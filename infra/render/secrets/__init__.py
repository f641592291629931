"""The platform's secrets: which exist, how strong they must be, when they rotate."""
