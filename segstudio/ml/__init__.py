"""Keras 3 training engine: U-Net, losses, sampling, tf.data pipeline, trainer, prediction, export."""
