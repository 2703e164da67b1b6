"""Modal and modeless dialogs (new project, export, help)."""
