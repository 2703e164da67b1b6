"""Qt-free, TensorFlow-free model of segstudio: numpy and the standard library only."""
