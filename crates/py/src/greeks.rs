//! Batch Greeks and implied volatility on NumPy arrays.
//!
//! Inputs are borrowed from NumPy without a copy (`float64`/`bool`, C-contiguous; the Python
//! wrapper converts anything else once), outputs are NumPy arrays allocated here (or the caller's
//! `out`) and filled in place, and the GIL is released while the kernel runs. Greeks use the
//! options crate's SIMD batch kernel ([`ballast_options::batch::price_greeks`], generalised Black-Scholes-Merton,
//! over one contiguous chunk per core);
//! implied volatility its scalar solver ([`ballast_options::iv::implied_vol_bsm`]) per
//! element.

use crate::errors;
use ballast_options::batch::{price_greeks, BatchInput, BatchOutput};
use ballast_options::error::OptionsError;
use ballast_options::iv::implied_vol_bsm;
use ballast_options::pricing::OptionKind;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Names of the float inputs of [`greeks`], in order.
const GREEKS_IN: [&str; 6] = ["spot", "strike", "t", "r", "q", "vol"];
/// Names of the float inputs of [`implied_vol`], in order.
const IV_IN: [&str; 6] = ["price", "spot", "strike", "t", "r", "q"];

/// The slice of a borrowed array, or an error naming it when it is not contiguous.
fn contiguous<'a, T>(
    py: Python<'_>,
    name: &str,
    r: Result<&'a [T], numpy::AsSliceError>,
) -> PyResult<&'a [T]> {
    r.map_err(|_| errors::other(py, format!("{name}: array is not C-contiguous")))
}

/// Borrowed slices of the inputs, or an error naming the first array that is not contiguous
/// or whose length differs from the first.
fn slices<'a>(
    py: Python<'_>,
    names: &[&str; 6],
    arrays: &'a [PyReadonlyArray1<'_, f64>],
    is_call: &'a PyReadonlyArray1<'_, bool>,
) -> PyResult<(Vec<&'a [f64]>, &'a [bool])> {
    if arrays.len() != names.len() {
        return Err(errors::other(
            py,
            format!("expected {} arrays ({})", names.len(), names.join(", ")),
        ));
    }
    let mut out = Vec::with_capacity(arrays.len());
    for (name, a) in names.iter().zip(arrays) {
        out.push(contiguous(py, name, a.as_slice())?);
    }
    let calls = contiguous(py, "is_call", is_call.as_slice())?;
    let n = out.first().map_or(0, |s| s.len());
    let lens = names.iter().copied().zip(out.iter().map(|s| s.len()));
    for (name, len) in lens.chain([("is_call", calls.len())]) {
        if len != n {
            return Err(errors::other(
                py,
                format!("{name}: length {len}, {} has length {n}", names[0]),
            ));
        }
    }
    Ok((out, calls))
}

/// Names of the outputs of [`greeks`], in order.
const GREEKS_OUT: [&str; 6] = ["price", "delta", "gamma", "vega", "theta", "rho"];

/// The output arrays: `out`'s (checked: float64, length `n`, C-contiguous, writeable, not an
/// input) or six new ones.
fn outputs<'py>(
    py: Python<'py>,
    n: usize,
    out: Option<Vec<Bound<'py, PyArray1<f64>>>>,
) -> PyResult<Vec<Bound<'py, PyArray1<f64>>>> {
    let Some(given) = out else {
        return Ok((0..6)
            .map(|_| PyArray1::<f64>::zeros(py, n, false))
            .collect());
    };
    if given.len() != GREEKS_OUT.len() {
        return Err(errors::other(
            py,
            format!(
                "out: expected {} arrays ({})",
                GREEKS_OUT.len(),
                GREEKS_OUT.join(", ")
            ),
        ));
    }
    for (name, a) in GREEKS_OUT.iter().zip(&given) {
        let len = PyUntypedArrayMethods::len(a);
        if len != n {
            return Err(errors::other(
                py,
                format!("out[{name}]: length {len}, the inputs have length {n}"),
            ));
        }
    }
    Ok(given)
}

/// Price and Greeks of each option: a dict of NumPy arrays `price`, `delta`, `gamma`, `vega`
/// (per 1.00 of vol), `theta` (per year), `rho` (per 1.00 of rate). With `out` (six float64
/// arrays in that order) the kernel writes into them instead of allocating: a loop that prices
/// the same book again and again pays no allocation or first-touch of fresh pages.
#[pyfunction]
#[pyo3(signature = (inputs, is_call, out=None))]
pub fn greeks<'py>(
    py: Python<'py>,
    inputs: Vec<PyReadonlyArray1<'py, f64>>,
    is_call: PyReadonlyArray1<'py, bool>,
    out: Option<Vec<Bound<'py, PyArray1<f64>>>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (s, calls) = slices(py, &GREEKS_IN, &inputs, &is_call)?;
    let outs = outputs(py, calls.len(), out)?;
    let mut rw = Vec::with_capacity(outs.len());
    for (name, a) in GREEKS_OUT.iter().zip(&outs) {
        // Refused when the array is read-only, or is one of the inputs (borrowed above).
        let w = a
            .try_readwrite()
            .map_err(|e| errors::other(py, format!("out[{name}]: not writeable here ({e})")))?;
        rw.push(w);
    }
    let mut slots = Vec::with_capacity(rw.len());
    for (name, w) in GREEKS_OUT.iter().zip(rw.iter_mut()) {
        let slot = w
            .as_slice_mut()
            .map_err(|_| errors::other(py, format!("out[{name}]: array is not C-contiguous")))?;
        slots.push(slot);
    }
    let six: [&mut [f64]; 6] = slots
        .try_into()
        .map_err(|_| errors::other(py, "out: six arrays"))?;
    let mut o = batch_out(six);
    let input = BatchInput {
        spot: s[0],
        strike: s[1],
        t: s[2],
        r: s[3],
        q: s[4],
        vol: s[5],
        is_call: calls,
    };
    py.detach(|| in_chunks(&input, &mut o))
        .map_err(|e| errors::other(py, e))?;
    drop(rw);
    let d = PyDict::new(py);
    for (name, a) in GREEKS_OUT.iter().zip(outs) {
        d.set_item(*name, a)?;
    }
    Ok(d)
}

/// Smallest slice worth a thread of its own.
const MIN_CHUNK: usize = 1 << 15;

/// Runs the batch kernel over contiguous chunks on scoped threads (one per core). The kernel
/// is element-wise, so the results are the same bits for any chunking; an invalid element's
/// error carries its index in the whole batch.
fn in_chunks(
    input: &BatchInput<'_>,
    out: &mut BatchOutput<'_>,
) -> ballast_options::error::Result<()> {
    let n = input.spot.len();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let chunk = n.div_ceil(cores).max(MIN_CHUNK);
    if chunk >= n {
        return price_greeks(input, out);
    }
    let mut parts = Vec::new();
    let mut rest = BatchOutput {
        price: &mut *out.price,
        delta: &mut *out.delta,
        gamma: &mut *out.gamma,
        vega: &mut *out.vega,
        theta: &mut *out.theta,
        rho: &mut *out.rho,
    };
    let mut start = 0;
    while start < n {
        let len = chunk.min(n - start);
        let (head, tail) = split_out(rest, len);
        parts.push((start, slice_in(input, start, len), head));
        rest = tail;
        start += len;
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|(at, inp, mut o)| {
                s.spawn(move || price_greeks(&inp, &mut o).map_err(|e| (at, e)))
            })
            .collect();
        let mut first = Ok(());
        for h in handles {
            let r = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            if let (Ok(()), Err((at, e))) = (&first, r) {
                first = Err(offset(e, at));
            }
        }
        first
    })
}

/// `len` elements of every input from `at`.
fn slice_in<'a>(i: &BatchInput<'a>, at: usize, len: usize) -> BatchInput<'a> {
    let r = at..at + len;
    BatchInput {
        spot: &i.spot[r.clone()],
        strike: &i.strike[r.clone()],
        t: &i.t[r.clone()],
        r: &i.r[r.clone()],
        q: &i.q[r.clone()],
        vol: &i.vol[r.clone()],
        is_call: &i.is_call[r],
    }
}

/// The kernel's outputs from six slices, in [`GREEKS_OUT`] order.
fn batch_out([price, delta, gamma, vega, theta, rho]: [&mut [f64]; 6]) -> BatchOutput<'_> {
    BatchOutput {
        price,
        delta,
        gamma,
        vega,
        theta,
        rho,
    }
}

/// The first `len` elements of every output, and the rest.
fn split_out(o: BatchOutput<'_>, len: usize) -> (BatchOutput<'_>, BatchOutput<'_>) {
    let (price, p2) = o.price.split_at_mut(len);
    let (delta, d2) = o.delta.split_at_mut(len);
    let (gamma, g2) = o.gamma.split_at_mut(len);
    let (vega, v2) = o.vega.split_at_mut(len);
    let (theta, t2) = o.theta.split_at_mut(len);
    let (rho, r2) = o.rho.split_at_mut(len);
    (
        batch_out([price, delta, gamma, vega, theta, rho]),
        BatchOutput {
            price: p2,
            delta: d2,
            gamma: g2,
            vega: v2,
            theta: t2,
            rho: r2,
        },
    )
}

/// A chunk's element error with its index in the whole batch.
fn offset(e: OptionsError, at: usize) -> OptionsError {
    match e {
        OptionsError::BatchElement { index, source } => OptionsError::BatchElement {
            index: index + at,
            source,
        },
        other => other,
    }
}

/// Implied volatility of each option price. An element the solver refuses (a price outside
/// the no-arbitrage band, an invalid input) raises an error naming the element and the
/// field, or becomes NaN with `nan_on_error`.
#[pyfunction]
#[pyo3(signature = (inputs, is_call, nan_on_error=false))]
pub fn implied_vol<'py>(
    py: Python<'py>,
    inputs: Vec<PyReadonlyArray1<'py, f64>>,
    is_call: PyReadonlyArray1<'py, bool>,
    nan_on_error: bool,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (s, calls) = slices(py, &IV_IN, &inputs, &is_call)?;
    let out = PyArray1::<f64>::zeros(py, calls.len(), false);
    let mut rw = out.readwrite();
    let vols = rw.as_slice_mut().map_err(|e| errors::other(py, e))?;
    let solved = py.detach(|| {
        for (i, v) in vols.iter_mut().enumerate() {
            let kind = if calls[i] {
                OptionKind::Call
            } else {
                OptionKind::Put
            };
            match implied_vol_bsm(kind, s[0][i], s[1][i], s[2][i], s[3][i], s[4][i], s[5][i]) {
                Ok(x) => *v = x,
                Err(_) if nan_on_error => *v = f64::NAN,
                Err(e) => return Err((i, e)),
            }
        }
        Ok(())
    });
    drop(rw);
    solved.map_err(|(i, e)| errors::other(py, format!("element {i}: {e}")))?;
    Ok(out)
}
