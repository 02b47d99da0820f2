"""Example encoding: masks written as PNG by our own encoder read back exactly with Pillow and TensorFlow."""
import io

import numpy as np
import pytest
from PIL import Image

from kubricgen.datasets.si_score import schema


@pytest.mark.parametrize("shape", [(224, 224, 1), (32, 48, 1), (7, 13), (1, 1, 1)])
def test_png_masks_decode_to_the_same_pixels(shape):
  rng = np.random.RandomState(0)
  mask = np.zeros(shape, np.uint8)
  mask[shape[0] // 4:shape[0] // 2 + 1, shape[1] // 3:] = rng.randint(0, 256, (shape[0] // 2 + 1 - shape[0] // 4,
                                                                             shape[1] - shape[1] // 3) + shape[2:])
  encoded = schema.encode_png(mask)
  with Image.open(io.BytesIO(encoded)) as image:
    assert image.mode == "L" and image.size == (shape[1], shape[0])
    np.testing.assert_array_equal(np.asarray(image), mask.reshape(shape[:2]))
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  np.testing.assert_array_equal(tf.io.decode_png(encoded).numpy()[..., 0], mask.reshape(shape[:2]))


def test_png_refuses_what_is_not_a_uint8_mask():
  with pytest.raises(ValueError, match="uint8"):
    schema.encode_png(np.zeros((4, 4, 1), np.float32))
  with pytest.raises(ValueError, match="uint8"):
    schema.encode_png(np.zeros((4, 4, 3), np.uint8))
