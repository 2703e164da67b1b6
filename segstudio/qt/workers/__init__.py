"""Background work off the GUI thread (threads relaying child processes)."""
