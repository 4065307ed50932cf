//! bench MODEL.onnx N C H W : load with tract-onnx and time 50 runs on a constant input
use std::time::Instant;
use tract_onnx::prelude::*;
fn main() -> TractResult<()> {
    let a: Vec<String> = std::env::args().collect();
    let shape: Vec<usize> = a[2..6].iter().map(|s| s.parse().unwrap()).collect();
    let t0 = Instant::now();
    let m = tract_onnx::onnx().model_for_path(&a[1])?.with_input_fact(0, f32::fact(&shape).into())?.into_optimized()?.into_runnable()?;
    let load = t0.elapsed();
    let x: Tensor = tract_ndarray::ArrayD::<f32>::from_elem(shape.clone(), 0.5).into();
    let out = m.run(tvec!(x.clone().into()))?;
    let mut ts = Vec::new();
    for _ in 0..50 { let t = Instant::now(); let _ = m.run(tvec!(x.clone().into()))?; ts.push(t.elapsed().as_secs_f64() * 1e3); }
    ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("{}: load {:?}, outputs {:?}, median {:.2} ms", a[1], load, out.iter().map(|o| o.shape().to_vec()).collect::<Vec<_>>(), ts[25]);
    Ok(())
}
