"""The FER mini-Xception's torch modules (imported only when the model is built)."""

from torch import nn
from torch.nn import functional as F

from ._fer import FER_EMOTIONS

_KERAS_BN_EPS = 1e-3
_CHANNELS = (16, 32, 64, 128)


def max_pool_same(x):
    # Keras MaxPooling2D(3, strides=2, padding="same"): extra padding at bottom/right
    h, w = x.shape[-2:]
    ph, pw = max((-(-h // 2) - 1) * 2 + 3 - h, 0), max((-(-w // 2) - 1) * 2 + 3 - w, 0)
    x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), value=float("-inf"))
    return F.max_pool2d(x, 3, 2)


class SeparableConv(nn.Module):
    """Keras SeparableConv2D(3x3, "same", no bias): depthwise then pointwise."""

    def __init__(self, cin, cout):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class ResidualModule(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=2, bias=False)
        self.shortcut_bn = nn.BatchNorm2d(cout, eps=_KERAS_BN_EPS)
        self.sep1 = SeparableConv(cin, cout)
        self.bn1 = nn.BatchNorm2d(cout, eps=_KERAS_BN_EPS)
        self.sep2 = SeparableConv(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout, eps=_KERAS_BN_EPS)

    def forward(self, x):
        y = F.relu(self.bn1(self.sep1(x)))
        y = max_pool_same(self.bn2(self.sep2(y)))
        return y + self.shortcut_bn(self.shortcut(x))


class MiniXception(nn.Module):
    """FER2013 mini-Xception: ``(N, 1, 64, 64)`` in [-1, 1] to 7 emotion logits.

    ``forward(x)`` returns the logits (softmax gives the Keras model's output),
    ``features(x)`` the 128-d embedding, ``features_and_logits(x)`` both.
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=_KERAS_BN_EPS)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=_KERAS_BN_EPS)
        cins = (8,) + _CHANNELS[:-1]
        self.blocks = nn.ModuleList(ResidualModule(a, b) for a, b in zip(cins, _CHANNELS))
        self.classifier = nn.Conv2d(_CHANNELS[-1], len(FER_EMOTIONS), 3, padding=1)

    def _trunk(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        for block in self.blocks:
            x = block(x)
        return x

    def features_and_logits(self, x):
        """``(features (N, 128), logits (N, 7))`` from one pass."""
        trunk = self._trunk(x)
        return trunk.mean(dim=(2, 3)), self.classifier(trunk).mean(dim=(2, 3))

    def features(self, x):
        """The 128-d embedding: the last residual module's output, averaged over space."""
        return self._trunk(x).mean(dim=(2, 3))

    def forward(self, x):
        return self.classifier(self._trunk(x)).mean(dim=(2, 3))
