//! Drawing: layout invariants (without drawing), SVG structure, snapshots of every bundled
//! circuit, and a rendering to pixels that cannot be blank.

use proptest::prelude::*;
use qloop::draw::{CircuitDag, Layout, Style, Theme, View};
use qloop::{Circuit, Gate, Instruction, Param};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn check_layout(c: &Circuit) -> Result<(), String> {
    let layout = Layout::of(c);
    let dag = CircuitDag::new(c);
    let items = layout.items();
    for (i, a) in items.iter().enumerate() {
        for b in &items[i + 1..] {
            if a.column == b.column && a.overlaps(b) {
                return Err(format!(
                    "items {} and {} share a column and a wire",
                    a.instruction, b.instruction
                ));
            }
        }
        for p in dag.predecessors(a.instruction) {
            if items[p].column >= a.column {
                return Err(format!(
                    "{} is not after its predecessor {p}",
                    a.instruction
                ));
            }
        }
    }
    if layout.num_columns() < dag.depth() {
        return Err("fewer columns than the DAG depth".into());
    }
    Ok(())
}

fn random_circuit(n: usize, picks: &[(usize, usize, usize, bool)]) -> Circuit {
    let mut c = Circuit::new(n);
    for &(kind, a, b, adjacent) in picks {
        let q = a % n;
        let r = if adjacent { (q + 1) % n } else { b % n };
        c = match kind % 6 {
            0 => c.h(q),
            1 => c.rz(0.3, q),
            2 if r != q => c.cx(q, r),
            3 if r != q => c.rzz(0.7, q, r),
            4 if r != q => c.swap(q, r),
            _ => c.ry(Param::weight(format!("t{a}")), q),
        };
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn layout_invariants_hold_on_random_circuits(
        n in 2usize..7,
        picks in prop::collection::vec((0usize..6, 0usize..8, 0usize..8, any::<bool>()), 0..40),
    ) {
        let c = random_circuit(n, &picks);
        prop_assert_eq!(check_layout(&c), Ok(()));
    }

    /// With every two-qubit gate on neighbours (and no measurement), the column count is the
    /// ASAP depth.
    #[test]
    fn column_count_is_the_asap_depth_for_neighbour_gates(
        n in 2usize..7,
        picks in prop::collection::vec((0usize..6, 0usize..8, 0usize..8), 0..40),
    ) {
        let picks: Vec<_> = picks.into_iter().map(|(k, a, b)| (k, a % (n - 1), b, true)).collect();
        let c = random_circuit(n, &picks);
        prop_assert_eq!(Layout::of(&c).num_columns(), c.depth());
    }
}

#[test]
fn spanning_gates_and_measurements_block_the_wires_they_cross() {
    let c = Circuit::new(3).cx(0, 2).h(1).measure_all();
    check_layout(&c).unwrap();
    let cols: Vec<usize> = Layout::of(&c).items().iter().map(|p| p.column).collect();
    // h(1) cannot sit under the cx(0, 2); measure_all's barrier takes a column; each
    // measurement's double line crosses the wires below it.
    assert_eq!(cols, vec![0, 1, 2, 3, 4, 5]);
    let layout = Layout::of(&c);
    assert_eq!(layout.folds(Some(2)), vec![0..2, 2..4, 4..6]);
}

fn circuits_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("circuits")
}

fn bundled() -> Vec<(String, Circuit)> {
    let mut files: Vec<_> = std::fs::read_dir(circuits_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().replace('.', "_");
            (name, Circuit::load(&p).unwrap())
        })
        .collect()
}

fn ops_by_name(svg: &str) -> BTreeMap<String, usize> {
    let doc = roxmltree::Document::parse(svg).expect("valid XML");
    let mut counts = BTreeMap::new();
    for node in doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("op"))
    {
        *counts
            .entry(node.attribute("data-op").unwrap().to_string())
            .or_insert(0) += 1;
    }
    counts
}

#[test]
fn svg_parses_and_holds_one_glyph_per_instruction() {
    for (name, c) in bundled() {
        let mut expected: BTreeMap<String, usize> = BTreeMap::new();
        for inst in c.iter() {
            *expected.entry(inst.name().to_string()).or_insert(0) += 1;
        }
        for view in [View::Standard, View::Feynman] {
            for theme in [Theme::Light, Theme::Dark, Theme::Print] {
                let style = Style {
                    view,
                    theme,
                    fold: Some(7),
                    ..Style::default()
                };
                let svg = c.to_svg(&style);
                assert_eq!(ops_by_name(&svg), expected, "{name} {view:?} {theme:?}");
            }
        }
    }
    // Glyph shapes: a CNOT has one control dot and a ⊕; a Feynman CNOT one wavy propagator.
    let bell = Circuit::new(2).h(0).cx(0, 1);
    let svg = bell.to_svg(&Style::default());
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let cx = doc
        .descendants()
        .find(|n| n.attribute("data-op") == Some("cx"))
        .unwrap();
    assert_eq!(
        cx.descendants()
            .filter(|n| n.has_tag_name("circle"))
            .count(),
        2
    );
    let feynman = bell.to_svg(&Style {
        view: View::Feynman,
        ..Style::default()
    });
    assert_eq!(feynman.matches("class=\"propagator\"").count(), 1);
    assert!(
        !feynman.contains("stroke-dasharray=\"5 3\""),
        "CNOT entangles: wavy, not dashed"
    );
    let swap = Circuit::new(2).swap(0, 1).to_svg(&Style {
        view: View::Feynman,
        ..Style::default()
    });
    assert!(
        swap.contains("stroke-dasharray=\"5 3\""),
        "SWAP does not entangle"
    );
}

#[test]
fn labels_are_escaped_and_output_is_deterministic() {
    let c = Circuit::new(2)
        .rx(Param::weight("a<b&\"c\""), 0)
        .rz(std::f64::consts::FRAC_PI_2, 1)
        .cp(3.0 * std::f64::consts::PI / 4.0, 0, 1);
    let svg = c.to_svg(&Style::default());
    roxmltree::Document::parse(&svg).expect("escaped");
    assert!(svg.contains("a&lt;b&amp;"), "{svg}");
    assert!(svg.contains("π/2") && svg.contains("P(3π/4)"));
    assert_eq!(svg, c.to_svg(&Style::default()));
    let theta = Circuit::new(1).ry(2.0 * Param::weight("theta0") + 1.0, 0);
    assert!(theta.to_svg(&Style::default()).contains("2θ₀+1"));
}

#[test]
fn overlays_draw_the_band_legend_and_cut_entropies() {
    let ghz = Circuit::new(3).h(0).cx(0, 1).cx(1, 2);
    let style = Style {
        view: View::Feynman,
        activations: Some(qloop::draw::Activations {
            title: "P(outcome)".into(),
            labels: (0..8).map(|k| format!("{k:03b}")).collect(),
            values: vec![0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5],
        }),
        cut_entropies: Some((vec![0.693, 0.693], "nats".into())),
        ..Style::default()
    };
    let svg = ghz.to_svg(&style);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let band = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("activations"))
        .unwrap();
    // 8 cells + the legend bar; the largest value gets the top colour of the scale.
    assert_eq!(
        band.descendants()
            .filter(|n| n.has_tag_name("rect"))
            .count(),
        9
    );
    assert!(svg.contains("fill=\"#fde725\""));
    assert!(svg.contains("linearGradient"));
    assert_eq!(svg.matches("class=\"cut-entropy\"").count(), 2);
    assert!(svg.contains("S = 0.693"));
}

#[test]
fn text_diagram_of_a_bell_pair() {
    let text = Circuit::new(2).h(0).cx(0, 1).measure_all().to_text(None);
    let expected = "\
q0:  ─┤H├──●──░──┤M├───────
           │  ░   ║
q1:  ──────⊕──░───╫───┤M├──
                  ║    ║
 c:  ═════════════╩════╩═══
                  0    1
";
    assert_eq!(text, expected, "\n{text}");
}

/// Snapshots of every bundled circuit: standard and Feynman SVG, and text.
/// `QLOOP_UPDATE_SNAPSHOTS=1 cargo test --test draw` rewrites them.
#[test]
fn snapshots_of_every_bundled_circuit() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let update = std::env::var_os("QLOOP_UPDATE_SNAPSHOTS").is_some();
    let mut failures = Vec::new();
    for (name, c) in bundled() {
        let outputs = [
            (format!("{name}.svg"), c.to_svg(&Style::default())),
            (
                format!("{name}.feynman.svg"),
                c.to_svg(&Style {
                    view: View::Feynman,
                    ..Style::default()
                }),
            ),
            (format!("{name}.txt"), c.to_text(Some(12))),
        ];
        for (file, content) in outputs {
            let path = dir.join(&file);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &content).unwrap();
            } else {
                let stored = std::fs::read_to_string(&path).unwrap_or_else(|_| {
                    panic!("missing snapshot {file}; run with QLOOP_UPDATE_SNAPSHOTS=1")
                });
                if stored != content {
                    failures.push(file);
                }
            }
        }
    }
    assert!(failures.is_empty(), "snapshots differ: {failures:?}");
}

/// The fraction of pixels that differ from the top-left (background) pixel once rendered.
fn drawn_fraction(svg: &str) -> f64 {
    let tree = resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).unwrap();
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    let pixels = pixmap.pixels();
    let background = pixels[0];
    pixels.iter().filter(|p| **p != background).count() as f64 / pixels.len() as f64
}

/// Renders to pixels: a broken document (or one that draws nothing) cannot pass.
#[test]
fn svg_renders_to_pixels_that_are_not_blank() {
    let c = Circuit::load(circuits_dir().join("grover3.qasm")).unwrap();
    for view in [View::Standard, View::Feynman] {
        for theme in [Theme::Light, Theme::Dark] {
            let fraction = drawn_fraction(&c.to_svg(&Style {
                view,
                theme,
                ..Style::default()
            }));
            assert!(
                (0.02..0.8).contains(&fraction),
                "{view:?} {theme:?}: {:.3} of the pixels differ from the background",
                fraction
            );
        }
    }
    // A document with only a background is caught by the same measure.
    assert!(drawn_fraction(&Circuit::new(1).to_svg(&Style::default())) < 0.02);
}

#[test]
fn gates_of_every_kind_draw() {
    let mut c = Circuit::with_clbits(3, 3);
    for gate in Gate::all() {
        let qubits: Vec<usize> = (0..gate.num_qubits()).collect();
        c = c.gate(gate, &qubits);
    }
    c = c.barrier_all().measure(0, 0);
    check_layout(&c).unwrap();
    for view in [View::Standard, View::Feynman] {
        let svg = c.to_svg(&Style {
            view,
            fold: Some(10),
            ..Style::default()
        });
        assert_eq!(ops_by_name(&svg).values().sum::<usize>(), c.len());
    }
    let text = c.to_text(Some(10));
    assert!(text.contains('«') && text.contains('»'));
    assert!(matches!(
        c.instructions().last(),
        Some(Instruction::Measure { .. })
    ));
}
