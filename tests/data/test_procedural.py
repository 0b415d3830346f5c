"""The procedural images of the zoo's application rows: shapes, ranges, determinism and the structure each
one promises."""
import numpy as np
import pytest

from minigen.data.procedural import TEXTURES, seismic_sections, settlements, texture


@pytest.mark.parametrize("kind", TEXTURES)
def test_texture_is_one_image_in_0_1_fixed_by_its_seed(kind):
    a = texture(kind, 32, seed=1)
    assert a.shape == (32, 32) and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    np.testing.assert_array_equal(a, texture(kind, 32, seed=1))
    assert not np.array_equal(a, texture(kind, 32, seed=2)) and a.std() > 0.1     # not a flat image


def test_texture_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        texture("stripes")


def test_seismic_sections_mark_3_to_6_horizons_in_every_column():
    images, masks = seismic_sections(20, 32, seed=0)
    assert images.shape == masks.shape == (20, 32, 32) and 0 <= images.min() and images.max() <= 1
    assert set(np.unique(masks)) <= {0.0, 1.0}
    per_column = masks.sum(1)                                   # (n, width): horizons crossing each column
    assert per_column.min() >= 3 and per_column.max() <= 6
    np.testing.assert_array_equal(seismic_sections(3, 32, seed=0)[1], masks[:3])


def test_settlements_are_binary_maps_with_a_road_density():
    maps, density = settlements(50, 32, seed=0)
    assert maps.shape == (50, 32, 32) and set(np.unique(maps)) <= {0.0, 1.0}
    assert density.shape == (50,) and (density > 0).all() and (density < 1).all()
    # the street grid lies inside the built-up area: denser where more is built
    assert np.corrcoef(maps.mean((1, 2)), density)[0, 1] > 0.9
