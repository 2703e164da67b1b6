"""One tiny training run in a fresh process, for tests/ml/test_distributed.py.

    python tests/ml/mirrored_run.py DEVICES OUT.json

DEVICES=2 splits the CPU into two logical devices before TensorFlow starts, so the trainer
picks MirroredStrategy over them; DEVICES=1 is the single-device reference. Writes the
per-step losses, the last validation confusion matrix, and that matrix recomputed with a
plain (strategy-free) copy of the final weights.
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import tensorflow as tf

devices, out = int(sys.argv[1]), Path(sys.argv[2])
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)

from segstudio.ml.trainer import TrainConfig, TrainData, Trainer, evaluate_split  # noqa: E402
from segstudio.ml.unet import build_unet  # noqa: E402
from tests.ml.conftest import synthetic_pair  # noqa: E402

rng = np.random.default_rng(0)
train = [synthetic_pair(rng, 48) for _ in range(6)]
val = [synthetic_pair(rng, 48) for _ in range(3)]
counts = np.stack([np.bincount(lab[lab != 255], minlength=3)[:3] for _, lab in train])
data = TrainData(load_train=train.__getitem__, train_counts=counts, num_classes=3, class_weights=[0.5, 2.0, 2.0],
                 load_val=val.__getitem__, n_val=len(val), ignore_index=255, mean=[70.0], variance=[1600.0])
config = TrainConfig(filters=4, depth=2, batch=8, crop=32, steps_per_epoch=4, epochs=2, lr=1e-3,
                     loss=os.environ.get("LOSS", "focal+dice"), self_correct=False)


class Record:
    losses: list = []
    messages: list = []
    confusion = None

    def on_batch(self, epoch, step, steps, loss):
        self.losses.append(loss)

    def on_epoch(self, report):
        self.confusion = report.confusion

    def on_message(self, text):
        self.messages.append(text)


rec = Record()
trainer = Trainer(data, config, model_path=out.with_suffix(".keras"), callbacks=rec)
result = trainer.run()
plain = build_unet(3, 1, config.depth, config.filters, config.batch_norm, config.dropout, [70.0], [1600.0])
plain.set_weights(trainer.model.get_weights())
cm_plain, _ = evaluate_split(plain, data.load_val, data.n_val, 3, 255)
out.write_text(json.dumps({
    "status": result.status, "messages": rec.messages, "losses": rec.losses,
    "replicas": trainer.model.distribute_strategy.num_replicas_in_sync,
    "confusion": rec.confusion.tolist(), "confusion_plain": cm_plain.tolist(),
    "val_pixels": int(sum(int((lab != 255).sum()) for _, lab in val)),
}))
