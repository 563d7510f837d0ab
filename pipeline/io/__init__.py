"""Reading and writing images and arrays in the formats users bring."""
