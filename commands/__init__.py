"""The sub-commands of main.py: train, eval, answers."""
