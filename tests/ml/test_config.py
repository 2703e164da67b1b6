"""ml.config is the Keras-free home of the training defaults."""

import subprocess
import sys

from segstudio.ml import config


def test_importing_config_loads_no_tensorflow_or_keras():
    code = ("import sys, segstudio.ml.config, segstudio.services.training_setup; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_engine_the_panel_and_the_losses_share_one_set_of_defaults():
    from segstudio.ml import losses, trainer
    from segstudio.services import training, training_setup

    assert trainer.TrainConfig is config.TrainConfig
    assert losses.NAMES is config.LOSS_PARTS
    assert training.DEFAULTS == {"weights": config.DEFAULT_WEIGHT_SCHEME, "clip": config.DEFAULT_WEIGHT_CLIP}
    d = config.TrainConfig().to_dict()
    assert training_setup.DEFAULTS == {k: d[k] for k in training_setup.PANEL_KEYS}
    for spec in training_setup.LOSSES:
        losses.get(spec, [1.0, 2.0], 255)  # every offered loss builds
        assert all(part in config.LOSS_PARTS for part in spec.split("+")), spec
