"""What a rendered scene folder holds, and how to write and read it back (lossless)."""
