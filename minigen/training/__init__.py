"""Training: the one loop (run folder, checkpoints, resume) and the tasks behind ``minigen train``.

    from minigen import training
    from minigen.training.gan_task import GANTask
    results = training.train(GANTask.make_config(seed=0, data="ring8", steps=3000), "runs/ring8")
    task = training.load_task(training.Run.open("runs/ring8"))      # the trained model, read-only
"""
from minigen.training.loop import Run, TrainingDiverged, load_task, make_task, train  # noqa: F401
from minigen.training.task import ConfigError, Samples, Task, register_task, task_class  # noqa: F401
