"""Everything that imports torch or fvcore lives here, imported only by measuring commands."""
