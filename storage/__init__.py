"""Motor repositories implementing core's ports, and the indexes they rely on."""
