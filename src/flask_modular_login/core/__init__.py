"""The pure core: decisions without I/O. See README.md beside this file."""
