"""Reading and writing images and masks (Pillow for PNG/JPEG/BMP, tifffile for TIFF)."""
