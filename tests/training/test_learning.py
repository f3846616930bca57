import pytest

from benchmarks.learning_check import learning_run


@pytest.mark.slow
def test_transformer_learns_count_on_training_range():
    result = learning_run("count", steps=1200, seed=0)
    train = [r for r in result["results"] if r["in_train_range"]]
    assert train and all(r["exact"] >= 0.99 for r in train), train
