"""Reproduces the polynomial coefficients of the batch kernels in src/batch.rs (needs mpmath).

* MILLS_G: Chebyshev fit of G(t) = M(y)/t, M the Mills ratio Φ(−y)/φ(y), t = 5/(5+y),
  over y in [0, 38], in the variable s = (2t − 48/43)/(38/43) in [−1, 1]; 21 coefficients.
* exp Q: (e^r − 1 − r)/r² on |r| <= ln2/2 + 1e-6; 10 coefficients.
* ln P: (atanh(√z)/√z − 1)/z on z in [0, ((√2−1)/(√2+1))²·(1+1e-6)]; 7 coefficients.

Coefficients are printed lowest degree first, as the kernels use them.
"""
import mpmath as mp

mp.mp.dps = 50


def show(name, coeffs, err):
    print(f"{name}: max fit error {mp.nstr(err, 3)}")
    for c in reversed(coeffs):  # chebyfit returns highest degree first
        print(f"    {float(c):.20e},")


def mills(y):
    return mp.erfc(y / mp.sqrt(2)) / 2 / mp.npdf(y)


c, ymax = mp.mpf(5), mp.mpf(38)
a, b = 1 / (1 + ymax / c), mp.mpf(1)


def g_of_s(s):
    t = (s * (b - a) + (a + b)) / 2
    return mills(c * (1 / t - 1)) / t


show("MILLS_G", *mp.chebyfit(g_of_s, [-1, 1], 21, error=True))

h = mp.log(2) / 2 + mp.mpf("1e-6")


def q(r):
    if abs(r) < mp.mpf("1e-10"):
        return mp.mpf(1) / 2 + r / 6 + r * r / 24
    return (mp.exp(r) - 1 - r) / (r * r)


show("exp Q", *mp.chebyfit(q, [-h, h], 10, error=True))

zmax = ((mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)) ** 2 * (1 + mp.mpf("1e-6"))


def p(z):
    if z < mp.mpf("1e-12"):
        return mp.mpf(1) / 3 + z / 5 + z * z / 7
    s = mp.sqrt(z)
    return (mp.atanh(s) / s - 1) / z


show("ln P", *mp.chebyfit(p, [0, zmax], 7, error=True))
