//! Kubernetes manifests named by `[deployment] manifests`: one Deployment
//! (`apps/v1`) and at most one HorizontalPodAutoscaler (`autoscaling/v2`)
//! that scales it, in one multi-document file or several.
//!
//! From the Deployment: `spec.replicas`, the containers' CPU and memory
//! requests and limits (summed over the containers, as the scheduler and
//! the HPA sum them) and the readiness probe. From the HPA: the whole
//! spec (bounds, metrics, behaviour, tolerances). Descriptive fields
//! (metadata, selector, images, ports, env, other probes) are read past; a
//! field the model would need to honour but does not know is refused.

use std::path::{Path, PathBuf};

use cutover_models::hpa::{
    Behavior, MetricSpec, PolicyKind, ResourceName, ScalingPolicy, ScalingRules, SelectPolicy,
    Target,
};
use cutover_models::SimDuration;

use super::yaml::{Node, Value};
use crate::scenario::{FieldError, InputError};

/// Longest readiness probe delay or period read (an hour; Kubernetes has
/// no bound, but a probe every hour is already not a readiness probe).
const MAX_PROBE_SECONDS: i64 = 3600;

/// The Deployment's figures.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct K8sDeployment {
    /// `spec.replicas` (Kubernetes defaults it to 1).
    pub replicas: i64,
    /// Summed CPU requests, millicores.
    pub cpu_request: i64,
    /// Summed CPU limits, millicores (the request where a container sets none).
    pub cpu_limit: i64,
    /// Summed memory requests, bytes.
    pub memory_request: i64,
    /// The first container's readiness probe, if any.
    pub readiness: Option<Probe>,
}

/// A readiness probe's timing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Probe {
    /// `initialDelaySeconds` (default 0).
    pub initial_delay: SimDuration,
    /// `periodSeconds` (default 10).
    pub period: SimDuration,
    /// `successThreshold` (default 1).
    pub success_threshold: u32,
    /// `failureThreshold` (default 3).
    pub failure_threshold: u32,
}

/// The HPA's spec.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct K8sHpa {
    /// `minReplicas` (default 1).
    pub min_replicas: i64,
    /// `maxReplicas`.
    pub max_replicas: i64,
    /// `metrics` (default: CPU at 80 % utilisation).
    pub metrics: Vec<MetricSpec>,
    /// `behavior`, with Kubernetes' defaults for what it leaves out.
    pub behavior: Behavior,
    /// `behavior.scaleUp.tolerance` and `scaleDown.tolerance`, if set.
    pub tolerance_up: Option<f64>,
    /// See `tolerance_up`.
    pub tolerance_down: Option<f64>,
}

/// What the manifests say.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Manifests {
    /// The Deployment.
    pub deployment: K8sDeployment,
    /// Its HPA, if one targets it.
    pub hpa: Option<K8sHpa>,
}

/// A node with its file and dotted path, for located errors.
#[derive(Clone, Copy)]
struct At<'a> {
    node: &'a Node,
    file: &'a Path,
    path: &'a str,
}

impl<'a> At<'a> {
    fn err(&self, message: impl Into<String>) -> InputError {
        InputError::Field(Box::new(FieldError {
            file: self.file.to_path_buf(),
            line: self.node.line,
            column: self.node.column,
            field: self.path.to_string(),
            message: message.into(),
        }))
    }

    fn entries(&self) -> Result<&'a [(String, Node)], InputError> {
        match &self.node.value {
            Value::Map(e) => Ok(e),
            _ => Err(self.err("allowed: a mapping of fields")),
        }
    }

    fn items(&self) -> Result<&'a [Node], InputError> {
        match &self.node.value {
            Value::Seq(items) => Ok(items),
            _ => Err(self.err("allowed: a list")),
        }
    }

    fn text(&self) -> Result<&'a str, InputError> {
        match &self.node.value {
            Value::Scalar { text, .. } => Ok(text),
            _ => Err(self.err("allowed: a single value")),
        }
    }

    /// A whole number from `lo` to `hi`.
    fn int(&self, lo: i64, hi: i64) -> Result<i64, InputError> {
        let t = self.text()?;
        match t.trim().parse::<i64>() {
            Ok(v) if (lo..=hi).contains(&v) => Ok(v),
            _ => Err(self.err(format!("`{t}`; allowed: a whole number from {lo} to {hi}"))),
        }
    }

    fn seconds(&self, lo: i64, hi: i64) -> Result<SimDuration, InputError> {
        Ok(SimDuration::from_secs(self.int(lo, hi)? as u64))
    }
}

/// Walks a mapping: each field once, unknown ones refused with the list of
/// those allowed.
struct Fields<'a> {
    at: At<'a>,
    entries: &'a [(String, Node)],
    paths: Vec<String>,
}

impl<'a> Fields<'a> {
    fn new(at: At<'a>, allowed: &[&str]) -> Result<Self, InputError> {
        let entries = at.entries()?;
        for (key, node) in entries {
            if !allowed.contains(&key.as_str()) {
                let path = join(at.path, key);
                let here = At {
                    node,
                    file: at.file,
                    path: &path,
                };
                return Err(here.err(format!(
                    "field `{key}` is not read here; allowed: {}",
                    allowed.join(", ")
                )));
            }
        }
        let paths = entries.iter().map(|(k, _)| join(at.path, k)).collect();
        Ok(Fields { at, entries, paths })
    }

    fn get(&self, key: &str) -> Option<At<'_>> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(At {
            node: &self.entries[i].1,
            file: self.at.file,
            path: &self.paths[i],
        })
    }

    fn req(&self, key: &str, what: &str) -> Result<At<'_>, InputError> {
        self.get(key).ok_or_else(|| {
            self.at
                .err(format!("missing field `{key}`; allowed: {what}"))
        })
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Reads the manifests: exactly one Deployment, at most one HPA, which
/// must scale that Deployment.
pub(crate) fn read(paths: &[PathBuf]) -> Result<Manifests, InputError> {
    let mut deployment: Option<(K8sDeployment, String)> = None;
    let mut hpa: Option<(K8sHpa, String, At)> = None;
    let texts: Vec<(PathBuf, Vec<Node>)> = paths
        .iter()
        .map(|p| {
            let text = crate::scenario::source::read_text(p)?;
            Ok((p.clone(), super::yaml::parse(p, &text)?))
        })
        .collect::<Result<_, InputError>>()?;
    for (file, docs) in &texts {
        for doc in docs {
            let at = At {
                node: doc,
                file,
                path: "",
            };
            let top = Fields::new(at, &["apiVersion", "kind", "metadata", "spec", "status"])?;
            let kind = top.req("kind", "Deployment, HorizontalPodAutoscaler")?;
            let version = top.req("apiVersion", "apps/v1, autoscaling/v2")?;
            let name = metadata_name(&top)?;
            match kind.text()? {
                "Deployment" => {
                    expect_version(version, "apps/v1")?;
                    if deployment.is_some() {
                        return Err(kind.err(
                            "a second Deployment; allowed: one Deployment for the estate's service",
                        ));
                    }
                    let spec = top.req("spec", "the Deployment's spec")?;
                    deployment = Some((read_deployment(spec)?, name));
                }
                "HorizontalPodAutoscaler" => {
                    expect_version(version, "autoscaling/v2")?;
                    if hpa.is_some() {
                        return Err(kind.err("a second HorizontalPodAutoscaler; allowed: one"));
                    }
                    let spec = top.req("spec", "the HPA's spec")?;
                    let (h, target) = read_hpa(spec)?;
                    let kind_node = top.entries.iter().find(|(k, _)| k == "kind");
                    let target_at = At {
                        node: kind_node.map_or(doc, |(_, n)| n),
                        file,
                        path: "spec.scaleTargetRef.name",
                    };
                    hpa = Some((h, target, target_at));
                }
                other => {
                    return Err(kind.err(format!(
                        "kind `{other}` is not read; allowed: Deployment, HorizontalPodAutoscaler"
                    )))
                }
            }
        }
    }
    let Some((deployment, name)) = deployment else {
        let file = paths.first().cloned().unwrap_or_default();
        return Err(InputError::Field(Box::new(FieldError {
            file,
            line: 1,
            column: 1,
            field: String::new(),
            message: "no Deployment in the manifests; allowed: one Deployment (apps/v1)".into(),
        })));
    };
    let hpa = match hpa {
        Some((h, target, _)) if target == name => Some(h),
        Some((_, target, at)) => {
            return Err(at.err(format!(
                "scales `{target}`, but the Deployment is `{name}`; allowed: `{name}`"
            )))
        }
        None => None,
    };
    Ok(Manifests { deployment, hpa })
}

/// What the manifests in `path` hold, in a line (`cutover validate`).
pub fn describe(path: &Path) -> Result<String, InputError> {
    let m = read(&[path.to_path_buf()])?;
    let d = &m.deployment;
    let hpa = m.hpa.map_or("no HPA".to_string(), |h| {
        format!(
            "an HPA from {} to {} replicas on {} metric(s)",
            h.min_replicas,
            h.max_replicas,
            h.metrics.len()
        )
    });
    Ok(format!(
        "Kubernetes manifests: a Deployment of {} replicas requesting {}m CPU and {} MiB each, {hpa}",
        d.replicas,
        d.cpu_request,
        d.memory_request >> 20
    ))
}

fn expect_version(at: At, want: &str) -> Result<(), InputError> {
    let got = at.text()?;
    if got == want {
        Ok(())
    } else {
        Err(at.err(format!("`{got}` is not read; allowed: {want}")))
    }
}

/// `metadata.name` (other metadata is read past).
fn metadata_name(top: &Fields) -> Result<String, InputError> {
    let meta = top.req("metadata", "metadata with a name")?;
    let entries = meta.entries()?;
    match entries.iter().find(|(k, _)| k == "name") {
        Some((_, node)) => Ok(At {
            node,
            file: meta.file,
            path: "metadata.name",
        }
        .text()?
        .to_string()),
        None => Err(meta.err("missing field `name`; allowed: the object's name")),
    }
}

/// A Deployment's `spec`.
fn read_deployment(spec: At) -> Result<K8sDeployment, InputError> {
    let f = Fields::new(
        spec,
        &[
            "replicas",
            "selector",
            "template",
            "strategy",
            "minReadySeconds",
            "revisionHistoryLimit",
            "progressDeadlineSeconds",
        ],
    )?;
    let replicas = match f.get("replicas") {
        Some(r) => r.int(1, super::compute::MAX_REPLICAS)?,
        None => 1,
    };
    let template = Fields::new(
        f.req("template", "the pod template")?,
        &["metadata", "spec"],
    )?;
    let pod = Fields::new(
        template.req("spec", "the pod spec")?,
        &[
            "containers",
            "initContainers",
            "serviceAccountName",
            "terminationGracePeriodSeconds",
            "nodeSelector",
            "affinity",
            "tolerations",
            "topologySpreadConstraints",
            "volumes",
            "securityContext",
            "imagePullSecrets",
            "priorityClassName",
        ],
    )?;
    let containers = pod.req("containers", "a list of containers")?;
    let list = containers.items()?;
    if list.is_empty() {
        return Err(containers.err("an empty list; allowed: at least one container"));
    }
    let mut out = K8sDeployment {
        replicas,
        cpu_request: 0,
        cpu_limit: 0,
        memory_request: 0,
        readiness: None,
    };
    for (i, node) in list.iter().enumerate() {
        let path = format!("{}[{i}]", containers.path);
        read_container(
            At {
                node,
                path: &path,
                ..containers
            },
            &mut out,
        )?;
    }
    Ok(out)
}

/// One container: its resources add to the pod's; the first readiness
/// probe is the pod's.
fn read_container(at: At, out: &mut K8sDeployment) -> Result<(), InputError> {
    let f = Fields::new(
        at,
        &[
            "name",
            "image",
            "imagePullPolicy",
            "command",
            "args",
            "ports",
            "env",
            "envFrom",
            "volumeMounts",
            "livenessProbe",
            "startupProbe",
            "lifecycle",
            "securityContext",
            "resources",
            "readinessProbe",
        ],
    )?;
    let resources = f.req("resources", "requests (cpu, memory) and limits")?;
    let r = Fields::new(resources, &["requests", "limits"])?;
    let requests = Fields::new(
        r.req("requests", "cpu and memory requests")?,
        &["cpu", "memory"],
    )?;
    let cpu_at = requests.req("cpu", "a CPU quantity, e.g. \"500m\" or \"1\"")?;
    let cpu = cpu(cpu_at)?;
    out.cpu_request += cpu;
    if let Some(m) = requests.get("memory") {
        out.memory_request += memory(m)?;
    }
    let limit = match r.get("limits") {
        Some(l) => {
            let limits = Fields::new(l, &["cpu", "memory"])?;
            match limits.get("cpu") {
                Some(c) => {
                    let limit = self::cpu(c)?;
                    if limit < cpu {
                        return Err(
                            c.err("is below the CPU request; allowed: a limit at or above it")
                        );
                    }
                    limit
                }
                None => cpu,
            }
        }
        None => cpu,
    };
    out.cpu_limit += limit;
    if let (Some(p), None) = (f.get("readinessProbe"), out.readiness) {
        out.readiness = Some(read_probe(p)?);
    }
    Ok(())
}

/// A readiness probe's timing (its handler is read past).
fn read_probe(at: At) -> Result<Probe, InputError> {
    let f = Fields::new(
        at,
        &[
            "httpGet",
            "tcpSocket",
            "exec",
            "grpc",
            "initialDelaySeconds",
            "periodSeconds",
            "timeoutSeconds",
            "successThreshold",
            "failureThreshold",
            "terminationGracePeriodSeconds",
        ],
    )?;
    let count = |key: &str, default: i64| -> Result<u32, InputError> {
        f.get(key)
            .map_or(Ok(default), |a| a.int(1, 1000))
            .map(|v| v as u32)
    };
    Ok(Probe {
        initial_delay: f
            .get("initialDelaySeconds")
            .map_or(Ok(SimDuration::ZERO), |a| a.seconds(0, MAX_PROBE_SECONDS))?,
        // periodSeconds: default 10, minimum 1 (Kubernetes API reference, Probe).
        period: f
            .get("periodSeconds")
            .map_or(Ok(SimDuration::from_secs(10)), |a| {
                a.seconds(1, MAX_PROBE_SECONDS)
            })?,
        success_threshold: count("successThreshold", 1)?,
        failure_threshold: count("failureThreshold", 3)?,
    })
}

fn cpu(at: At) -> Result<i64, InputError> {
    super::compute::parse_cpu(at.text()?).map_err(|m| at.err(m))
}

fn memory(at: At) -> Result<i64, InputError> {
    let t = at.text()?;
    let milli = quantity_milli(t).map_err(|m| at.err(m))?;
    if milli < 1000 {
        return Err(at.err(format!(
            "`{t}` is below one byte; allowed: a memory quantity such as \"512Mi\" or \"1Gi\""
        )));
    }
    Ok((milli + 999) / 1000)
}

/// A Kubernetes quantity in milli-units: a decimal number with an optional
/// suffix, binary (Ki, Mi, Gi, Ti, Pi) or decimal (m, k, M, G, T, P), as
/// `resource.Quantity` parses them (exponents such as `1e3` are not read).
pub(crate) fn quantity_milli(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(t.len());
    let (number, suffix) = t.split_at(split);
    let allowed = "a quantity such as \"250m\", \"1.5\", \"512Mi\" or \"2G\" (suffixes m, k, M, G, T, P, Ki, Mi, Gi, Ti, Pi)";
    let scale: f64 = match suffix {
        "m" => 1.0,
        "" => 1e3,
        "k" => 1e6,
        "M" => 1e9,
        "G" => 1e12,
        "T" => 1e15,
        "P" => 1e18,
        "Ki" => 1024.0 * 1e3,
        "Mi" => 1024f64.powi(2) * 1e3,
        "Gi" => 1024f64.powi(3) * 1e3,
        "Ti" => 1024f64.powi(4) * 1e3,
        "Pi" => 1024f64.powi(5) * 1e3,
        other => {
            return Err(format!(
                "`{text}`: unit `{other}` is not a Kubernetes suffix; allowed: {allowed}"
            ))
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not {allowed}"))?;
    let milli = (value * scale).round();
    if !(0.0..9.0e18).contains(&milli) {
        return Err(format!(
            "`{text}` is out of range; allowed: {allowed}, not negative"
        ));
    }
    Ok(milli as i64)
}

/// An HPA's `spec`; returns it and the name of the Deployment it scales.
fn read_hpa(spec: At) -> Result<(K8sHpa, String), InputError> {
    let f = Fields::new(
        spec,
        &[
            "scaleTargetRef",
            "minReplicas",
            "maxReplicas",
            "metrics",
            "behavior",
        ],
    )?;
    let target = Fields::new(
        f.req("scaleTargetRef", "the Deployment it scales")?,
        &["apiVersion", "kind", "name"],
    )?;
    let kind = target.req("kind", "Deployment")?;
    if kind.text()? != "Deployment" {
        return Err(kind.err(format!("`{}`; allowed: Deployment", kind.text()?)));
    }
    let name = target
        .req("name", "the Deployment's name")?
        .text()?
        .to_string();
    let max = f
        .req("maxReplicas", "a whole number, at least minReplicas")?
        .int(1, super::compute::MAX_REPLICAS)?;
    let min = match f.get("minReplicas") {
        Some(m) => m.int(1, max)?,
        None => 1,
    };
    let metrics = match f.get("metrics") {
        Some(list) => {
            let items = list.items()?;
            let mut out = Vec::with_capacity(items.len());
            for (i, node) in items.iter().enumerate() {
                let path = format!("{}[{i}]", list.path);
                out.push(read_metric(At {
                    node,
                    path: &path,
                    ..list
                })?);
            }
            out
        }
        // An HPA without metrics scales on CPU at 80 % (autoscaling/v2
        // defaulting, SetDefaults_HorizontalPodAutoscaler).
        None => vec![MetricSpec::cpu_utilization(80)],
    };
    let (behavior, tolerance_up, tolerance_down) = match f.get("behavior") {
        Some(b) => read_behavior(b)?,
        None => (Behavior::default(), None, None),
    };
    Ok((
        K8sHpa {
            min_replicas: min,
            max_replicas: max,
            metrics,
            behavior,
            tolerance_up,
            tolerance_down,
        },
        name,
    ))
}

/// The names of the metrics the world supplies, by source type.
pub(crate) const POD_METRICS: &[&str] = &["requests_per_second"];
/// See [`POD_METRICS`].
pub(crate) const OBJECT_METRICS: &[&str] = &["requests_per_second"];
/// See [`POD_METRICS`].
pub(crate) const EXTERNAL_METRICS: &[&str] = &["requests_per_second"];

/// One entry of `spec.metrics`.
fn read_metric(at: At) -> Result<MetricSpec, InputError> {
    let f = Fields::new(at, &["type", "resource", "pods", "object", "external"])?;
    let kind = f.req("type", "Resource, Pods, Object, External")?;
    let body = |key: &str| f.req(key, &format!("the {key} metric's source"));
    match kind.text()? {
        "Resource" => {
            let r = Fields::new(body("resource")?, &["name", "target"])?;
            let name_at = r.req("name", "cpu, memory")?;
            let name = match name_at.text()? {
                "cpu" => ResourceName::Cpu,
                "memory" => ResourceName::Memory,
                other => return Err(name_at.err(format!("`{other}`; allowed: cpu, memory"))),
            };
            let target = read_target(
                r.req("target", "the metric's target")?,
                &["Utilization", "AverageValue"],
            )?;
            Ok(MetricSpec::Resource { name, target })
        }
        "Pods" => {
            let p = Fields::new(body("pods")?, &["metric", "target"])?;
            let name = metric_name(&p, POD_METRICS)?;
            match read_target(p.req("target", "the metric's target")?, &["AverageValue"])? {
                Target::AverageValue(v) => Ok(MetricSpec::Pods {
                    name,
                    average_value: v,
                }),
                _ => unreachable_target(kind),
            }
        }
        "Object" => {
            let o = Fields::new(body("object")?, &["describedObject", "metric", "target"])?;
            o.req("describedObject", "the object measured, e.g. the Ingress")?;
            let name = metric_name(&o, OBJECT_METRICS)?;
            let target = read_target(
                o.req("target", "the metric's target")?,
                &["Value", "AverageValue"],
            )?;
            Ok(MetricSpec::Object { name, target })
        }
        "External" => {
            let e = Fields::new(body("external")?, &["metric", "target"])?;
            let name = metric_name(&e, EXTERNAL_METRICS)?;
            let target = read_target(
                e.req("target", "the metric's target")?,
                &["Value", "AverageValue"],
            )?;
            Ok(MetricSpec::External { name, target })
        }
        other => Err(kind.err(format!(
            "metric type `{other}` is not read; allowed: Resource, Pods, Object, External"
        ))),
    }
}

/// `read_target` only returns the types it was allowed; this names the
/// impossible case as an error rather than a panic.
fn unreachable_target(at: At) -> Result<MetricSpec, InputError> {
    Err(at.err("allowed: an AverageValue target"))
}

/// `metric.name` (a `selector` is read past), one the world supplies.
fn metric_name(f: &Fields, known: &[&str]) -> Result<String, InputError> {
    let m = Fields::new(f.req("metric", "the metric's name")?, &["name", "selector"])?;
    let name_at = m.req("name", &known.join(", "))?;
    let name = name_at.text()?;
    if known.contains(&name) {
        Ok(name.to_string())
    } else {
        Err(name_at.err(format!(
            "metric `{name}` is not one the simulated world measures; allowed: {}",
            known.join(", ")
        )))
    }
}

/// A `MetricTarget` of one of the `allowed` types.
fn read_target(at: At, allowed: &[&str]) -> Result<Target, InputError> {
    let f = Fields::new(at, &["type", "averageUtilization", "averageValue", "value"])?;
    let kind = f.req("type", &allowed.join(", "))?;
    let t = kind.text()?;
    if !allowed.contains(&t) {
        return Err(kind.err(format!(
            "target type `{t}`; allowed here: {}",
            allowed.join(", ")
        )));
    }
    let positive = |key: &str| -> Result<i64, InputError> {
        let a = f.req(key, "a quantity above zero")?;
        match quantity_milli(a.text()?) {
            Ok(v) if v > 0 => Ok(v),
            Ok(_) => Err(a.err("allowed: a quantity above zero")),
            Err(m) => Err(a.err(m)),
        }
    };
    Ok(match t {
        "Utilization" => Target::Utilization(
            f.req("averageUtilization", "a whole percentage")?
                .int(1, 1000)? as i32,
        ),
        "AverageValue" => Target::AverageValue(positive("averageValue")?),
        _ => Target::Value(positive("value")?),
    })
}

/// `behavior`: each direction's rules over Kubernetes' defaults, and its
/// tolerance (`HPAConfigurableTolerance`, Kubernetes 1.33).
fn read_behavior(at: At) -> Result<(Behavior, Option<f64>, Option<f64>), InputError> {
    let f = Fields::new(at, &["scaleUp", "scaleDown"])?;
    let (scale_up, up) = match f.get("scaleUp") {
        Some(r) => read_rules(r, ScalingRules::default_scale_up())?,
        None => (ScalingRules::default_scale_up(), None),
    };
    let (scale_down, down) = match f.get("scaleDown") {
        Some(r) => read_rules(r, ScalingRules::default_scale_down())?,
        None => (ScalingRules::default_scale_down(), None),
    };
    Ok((
        Behavior {
            scale_up,
            scale_down,
        },
        up,
        down,
    ))
}

fn read_rules(at: At, default: ScalingRules) -> Result<(ScalingRules, Option<f64>), InputError> {
    let f = Fields::new(
        at,
        &[
            "stabilizationWindowSeconds",
            "selectPolicy",
            "policies",
            "tolerance",
        ],
    )?;
    let mut rules = default;
    if let Some(w) = f.get("stabilizationWindowSeconds") {
        // 0 to 3600 s (autoscaling/v2 validation).
        rules.stabilization_window = w.seconds(0, 3600)?;
    }
    if let Some(s) = f.get("selectPolicy") {
        rules.select = match s.text()? {
            "Max" => SelectPolicy::Max,
            "Min" => SelectPolicy::Min,
            "Disabled" => SelectPolicy::Disabled,
            other => return Err(s.err(format!("`{other}`; allowed: Max, Min, Disabled"))),
        };
    }
    if let Some(list) = f.get("policies") {
        let items = list.items()?;
        rules.policies = Vec::with_capacity(items.len());
        for (i, node) in items.iter().enumerate() {
            let path = format!("{}[{i}]", list.path);
            rules.policies.push(read_policy(At {
                node,
                path: &path,
                ..list
            })?);
        }
        if rules.policies.is_empty() && rules.select != SelectPolicy::Disabled {
            return Err(list.err(
                "an empty list; allowed: at least one policy, unless selectPolicy is Disabled",
            ));
        }
    }
    let tolerance = match f.get("tolerance") {
        Some(t) => {
            let v = quantity_milli(t.text()?).map_err(|m| t.err(m))? as f64 / 1000.0;
            if !(0.0..1.0).contains(&v) {
                return Err(t.err(format!("{v}; allowed: 0 up to (not including) 1")));
            }
            Some(v)
        }
        None => None,
    };
    Ok((rules, tolerance))
}

fn read_policy(at: At) -> Result<ScalingPolicy, InputError> {
    let f = Fields::new(at, &["type", "value", "periodSeconds"])?;
    let kind_at = f.req("type", "Pods, Percent")?;
    let kind = match kind_at.text()? {
        "Pods" => PolicyKind::Pods,
        "Percent" => PolicyKind::Percent,
        other => return Err(kind_at.err(format!("`{other}`; allowed: Pods, Percent"))),
    };
    Ok(ScalingPolicy {
        kind,
        value: f
            .req("value", "a whole number above zero")?
            .int(1, 100_000)? as i32,
        // periodSeconds: 1 to 1800 (autoscaling/v2 validation).
        period: f.req("periodSeconds", "1 to 1800")?.seconds(1, 1800)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_as_kubernetes_writes_them() {
        assert_eq!(quantity_milli("250m"), Ok(250));
        assert_eq!(quantity_milli("1.5"), Ok(1500));
        assert_eq!(quantity_milli("512Mi"), Ok(512 * 1024 * 1024 * 1000));
        assert_eq!(quantity_milli("2G"), Ok(2_000_000_000_000));
        assert_eq!(quantity_milli("1k"), Ok(1_000_000));
        assert!(quantity_milli("512MB").unwrap_err().contains("unit `MB`"));
        assert!(quantity_milli("lots").is_err());
        assert!(quantity_milli("-1").unwrap_err().contains("out of range"));
    }
}
