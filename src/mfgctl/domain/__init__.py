"""The rules of mfgctl. Modules here never print, never exit, and never import the CLI."""
