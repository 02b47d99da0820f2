"""Reading TFDS image-classification datasets into torch: sources, preprocessing, resumable sampling."""
