"""The speed workloads in plain PyTorch, as the original Mosaic trains a run: a loop over the
train loader with Adam and the loss, then an evaluation pass, per epoch. PyTorch's default
threads. Prints one JSON line per run: its seconds per epoch.
Usage: python3 pytorch_baseline.py WORKLOAD RUNS EPOCHS  (WORKLOAD: tutorial, mlp, cnn)"""
import json, sys, time
import torch

workload, runs, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def funnel_sizes(length, width):
    return {(4, 2): [4, 2, 1, 1], (4, 3): [6, 3, 2, 1], (4, 4): [8, 3, 3, 2]}[(length, width)]


class MLP(torch.nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))

    def forward(self, x):
        for layer in self.layers:
            x = torch.sigmoid(layer(x))
        return x


def tutorial_run(seed):
    # 24 runs: funnel and brick, widths 2-4, 4 repeats; OR gate, 200 samples, 80% train, batch 1
    index = seed % 24
    model_kind, width = ('funnel', 'brick')[index // 12], 2 + (index // 4) % 3
    hidden = funnel_sizes(4, width) if model_kind == 'funnel' else [width] * 4
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 2, (200, 2), generator=g).float()
    y = (x[:, :1] + x[:, 1:] > 0).float()
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[:160], y[:160]), batch_size=1, drop_last=True)
    test = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[160:], y[160:]), batch_size=1, drop_last=True)
    return MLP([2, *hidden, 1]), train, test, 1e-2


def images_run(seed, cnn):
    g = torch.Generator().manual_seed(seed)
    def data(n):
        x = torch.rand((n, 1, 28, 28) if cnn else (n, 784), generator=g)
        y = torch.nn.functional.one_hot(torch.randint(0, 10, (n,), generator=g), 10).float()
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64, drop_last=True)
    if cnn:
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(800, 10))
    else:
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    return model, data(3276), data(819), 1e-3


for r in range(runs):
    seed = int(sys.argv[4]) + r if len(sys.argv) > 4 else r
    model, train, test, lr = tutorial_run(seed) if workload == 'tutorial' else images_run(seed, workload == 'cnn')
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.MSELoss()
    times = []
    for epoch in range(epochs):
        started = time.perf_counter()
        model.train()
        for xb, yb in train:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            for xb, yb in test:
                loss_fn(model(xb), yb)
        times.append(time.perf_counter() - started)
    print(json.dumps({'run': seed, 'seconds_per_epoch': sum(times) / len(times), 'steps_per_epoch': len(train)}), flush=True)
