"""Autoloaded by Dagster (`dg.load_from_defs_folder`): one folder per stage of the data's path."""
