//! A simulated fleet: vehicles driving fastest routes between random places on the road graph,
//! parking, idling, speeding, braking hard, raising SOS and power-cut alarms; trackers reporting
//! fixes, heartbeats, OBD readings and login events in the IoT Hub's wire shapes.
//!
//! Pure and deterministic: the same seed, fleet size and start time give the same pushes, so the
//! simulator serves tests and benchmarks as well as the demo. Time is simulated: [`Sim::step`]
//! advances it by any amount, so the fleet can run faster than real time.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use fleet_core::jimi::format_time;
use serde_json::{Value, json};

use fleet_geo::roads::Roads;
use fleet_geo::{Point, bearing_deg, haversine_m};

/// SplitMix64: small, fast, good enough for behaviour, and reproducible across platforms.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
}

/// The vendor sub-accounts the simulated fleet is spread over.
pub const ACCOUNTS: [&str; 3] = ["demo", "demo@HQ", "demo_MSA"];

/// How a tracker behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceHealth {
    Reporting,
    /// Subscription expired: still reports, at lat/lng 0 (jimi-api.md §7).
    Expired,
    /// Never reports (SIM not activated, unplugged).
    Silent,
}

#[derive(Debug, Clone)]
pub struct Device {
    pub imei: String,
    pub account: &'static str,
    pub model: &'static str,
    pub vehicle: usize,
    pub health: DeviceHealth,
    /// Seconds between fixes.
    pub report_every: i64,
    next_fix: DateTime<Utc>,
    next_hb: DateTime<Utc>,
}

#[derive(Debug, Clone)]
enum Activity {
    Parked {
        until: DateTime<Utc>,
    },
    Idling {
        until: DateTime<Utc>,
    },
    Driving {
        path: Vec<usize>,
        leg: usize,
        along_m: f64,
        warned_speeding: bool,
    },
}

#[derive(Debug, Clone, Copy)]
struct TripStart {
    time: DateTime<Utc>,
    pos: Point,
    odometer_m: f64,
    max_speed: f64,
}

#[derive(Debug, Clone)]
pub struct Vehicle {
    pub plate: String,
    pub driver: String,
    pub driver_phone: String,
    pub pos: Point,
    pub node: usize,
    pub speed_kmh: f64,
    pub heading: f64,
    pub odometer_m: f64,
    pub acc_on: bool,
    pub has_obd: bool,
    /// Carries fuel-level and temperature sensors (pushoil, pushtem).
    pub has_sensors: bool,
    temperament: f64,
    trip: Option<TripStart>,
    next_sensor: DateTime<Utc>,
    next_lbs: DateTime<Utc>,
    relogin_at: Option<DateTime<Utc>>,
    activity: Activity,
    next_obd: DateTime<Utc>,
    sos_until: Option<DateTime<Utc>>,
    /// When the current stop began (the vehicle's last arrival, or the start of the simulation).
    stopped_since: DateTime<Utc>,
}

/// One item for one IoT Hub path.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    pub path: &'static str,
    pub item: Value,
}

/// A recorded fix, for the Open API's track history.
#[derive(Debug, Clone)]
pub struct TrackPoint {
    pub time: DateTime<Utc>,
    pub lat: f64,
    pub lng: f64,
    pub speed_kmh: f64,
    pub heading: f64,
    pub acc_on: bool,
}

/// A raised alarm, for the Open API's alarm list.
#[derive(Debug, Clone)]
pub struct AlarmRecord {
    pub imei: String,
    pub alarm_type: String,
    pub time: DateTime<Utc>,
    pub lat: f64,
    pub lng: f64,
    pub speed_kmh: f64,
}

/// A finished trip of a vehicle, for the Open API's trip report (`jimi.device.track.mileage`).
#[derive(Debug, Clone)]
pub struct TripRecord {
    pub vehicle: usize,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub from: Point,
    pub to: Point,
    pub start_odometer_m: f64,
    pub end_odometer_m: f64,
    pub max_speed_kmh: f64,
}

/// A finished stop of a vehicle, for the Open API's parking report.
#[derive(Debug, Clone)]
pub struct StopRecord {
    pub vehicle: usize,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub at: Point,
}

/// Track points kept per device (3 days at one a minute).
const TRACK_KEEP: usize = 3 * 24 * 60;
/// Alarms, trips and stops kept.
const RECORDS_KEEP: usize = 20_000;

/// The whole simulated fleet.
pub struct Sim {
    roads: Arc<Roads>,
    rng: Rng,
    pub now: DateTime<Utc>,
    pub vehicles: Vec<Vehicle>,
    pub devices: Vec<Device>,
    /// Per device, one fix a minute for the last days.
    pub tracks: HashMap<String, VecDeque<TrackPoint>>,
    pub alarms: VecDeque<AlarmRecord>,
    pub trips: VecDeque<TripRecord>,
    pub stops: VecDeque<StopRecord>,
    /// Index of each device by IMEI, and of each vehicle's first device (lookups every step).
    by_imei: HashMap<String, usize>,
    first_device: Vec<usize>,
    started: bool,
}

const FIRST: [&str; 12] = [
    "John", "Mary", "Peter", "Grace", "James", "Faith", "David", "Mercy", "Joseph", "Esther",
    "Samuel", "Ann",
];
const LAST: [&str; 12] = [
    "Otieno", "Wanjiku", "Kamau", "Mwangi", "Achieng", "Kiprop", "Njoroge", "Mutua", "Wekesa",
    "Odhiambo", "Chebet", "Barasa",
];

/// The vendor's name of an alarm type.
pub fn alarm_name(ty: &str) -> &'static str {
    match ty {
        "1" => "SOS",
        "2" => "Power cut",
        "3" => "Vibration",
        "41" => "Harsh acceleration",
        "48" => "Harsh braking",
        "43" => "Sharp turn",
        "overSpeed" => "Overspeed",
        _ => "Alarm",
    }
}

/// A Kenyan-style plate such as `KCA 542Q`.
fn plate(rng: &mut Rng) -> String {
    let letter = |rng: &mut Rng| (b'A' + rng.below(26) as u8) as char;
    let series = ['A', 'B', 'C', 'D'][rng.below(4)];
    format!(
        "K{series}{} {:03}{}",
        letter(rng),
        100 + rng.below(900),
        letter(rng)
    )
}

impl Sim {
    /// A fleet of `vehicles` vehicles, deterministic for `seed`, starting at `start`.
    pub fn new(roads: Arc<Roads>, vehicles: usize, seed: u64, start: DateTime<Utc>) -> Self {
        let mut rng = Rng::new(seed);
        let mut vs = Vec::with_capacity(vehicles);
        let mut devices = Vec::new();
        for v in 0..vehicles {
            let node = rng.below(roads.nodes.len());
            // Most vehicles set off within the first minute, so a new simulation shows movement.
            let parked_for = Duration::seconds(if rng.chance(0.7) {
                rng.range(0.0, 60.0)
            } else {
                rng.range(60.0, 900.0)
            } as i64);
            vs.push(Vehicle {
                plate: plate(&mut rng),
                driver: format!(
                    "{} {}",
                    FIRST[rng.below(FIRST.len())],
                    LAST[rng.below(LAST.len())]
                ),
                driver_phone: format!("+2547{:08}", rng.below(100_000_000)),
                pos: roads.nodes[node],
                node,
                speed_kmh: 0.0,
                heading: 0.0,
                odometer_m: rng.range(5_000.0, 250_000.0) * 1000.0,
                acc_on: false,
                has_obd: rng.chance(0.4),
                has_sensors: rng.chance(0.2),
                trip: None,
                next_sensor: start + Duration::seconds(rng.below(300) as i64),
                next_lbs: start + Duration::seconds(rng.below(900) as i64),
                relogin_at: None,
                temperament: if rng.chance(0.1) {
                    rng.range(1.15, 1.35)
                } else {
                    rng.range(0.8, 1.05)
                },
                activity: Activity::Parked {
                    until: start + parked_for,
                },
                next_obd: start,
                sos_until: None,
                stopped_since: start,
            });
            let account = ACCOUNTS[v % ACCOUNTS.len()];
            let health = match v {
                _ if vehicles >= 20 && v % 37 == 5 => DeviceHealth::Expired,
                _ if vehicles >= 20 && v % 41 == 7 => DeviceHealth::Silent,
                _ => DeviceHealth::Reporting,
            };
            devices.push(Device {
                imei: format!("8627980{:08}", 10_000 + v),
                account,
                model: "X3",
                vehicle: v,
                health,
                report_every: 10,
                next_fix: start + Duration::seconds(rng.below(10) as i64),
                next_hb: start + Duration::seconds(rng.below(300) as i64),
            });
            // Some vehicles carry a second tracker of another model.
            if v % 8 == 3 {
                devices.push(Device {
                    imei: format!("3535490{:08}", 20_000 + v),
                    account,
                    model: "AT4",
                    vehicle: v,
                    health: DeviceHealth::Reporting,
                    report_every: 30,
                    next_fix: start + Duration::seconds(rng.below(30) as i64),
                    next_hb: start + Duration::seconds(rng.below(300) as i64),
                });
            }
        }
        let by_imei = devices
            .iter()
            .enumerate()
            .map(|(i, d)| (d.imei.clone(), i))
            .collect();
        let first_device = (0..vehicles)
            .map(|v| devices.iter().position(|d| d.vehicle == v).unwrap_or(0))
            .collect();
        Self {
            roads,
            rng,
            now: start,
            vehicles: vs,
            devices,
            tracks: HashMap::new(),
            alarms: VecDeque::new(),
            trips: VecDeque::new(),
            stops: VecDeque::new(),
            by_imei,
            first_device,
            started: false,
        }
    }

    /// Advances simulated time by `dt_s` seconds; returns what the trackers pushed meanwhile.
    pub fn step(&mut self, dt_s: f64) -> Vec<Push> {
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            for d in self
                .devices
                .iter()
                .filter(|d| d.health != DeviceHealth::Silent)
            {
                out.push(Push { path: "pushevent", item: json!({"deviceImei": d.imei, "type": "LOGIN", "gateTime": format_time(self.now), "timezone": "0"}) });
            }
        }
        let end = self.now + Duration::milliseconds((dt_s * 1000.0) as i64);
        // Move in 1 s sub-steps so fixes between steps are where the vehicle really was.
        while self.now < end {
            let sub = (end - self.now).num_milliseconds().min(1000) as f64 / 1000.0;
            self.now += Duration::milliseconds((sub * 1000.0) as i64);
            for v in 0..self.vehicles.len() {
                self.advance(v, sub, &mut out);
            }
            let from = out.len();
            self.report(&mut out);
            self.remember(&out[from..]);
        }
        for p in out
            .iter()
            .filter(|p| p.path == "pushalarm" || p.path == "alarm")
        {
            let m = if p.path == "alarm" {
                &p.item
            } else {
                &p.item["msg"]
            };
            let ty = m["alertType"]
                .as_str()
                .or(m["alarmType"].as_str())
                .unwrap_or_default();
            if ty == fleet_core::jimi::REMOVE_ALARM {
                continue;
            }
            let num = |k: &str| {
                m[k].as_str()
                    .and_then(|s| s.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            self.alarms.push_back(AlarmRecord {
                imei: m["deviceImei"]
                    .as_str()
                    .or(m["imei"].as_str())
                    .unwrap_or_default()
                    .to_string(),
                alarm_type: ty.to_string(),
                // When it was raised (a step spans many seconds), as the push says.
                time: m["alarmTime"]
                    .as_str()
                    .and_then(fleet_core::jimi::parse_time)
                    .unwrap_or(self.now),
                lat: num("lat"),
                lng: num("lng"),
                speed_kmh: num("gpsSpeed"),
            });
            if self.alarms.len() > RECORDS_KEEP {
                self.alarms.pop_front();
            }
        }
        out
    }

    /// Keeps one fix a minute per device for the Open API's track history.
    fn remember(&mut self, fixes: &[Push]) {
        for p in fixes.iter().filter(|p| p.path == "pushgps") {
            let imei = p.item["deviceImei"].as_str().unwrap_or_default();
            let Some(d) = self.by_imei.get(imei).map(|i| &self.devices[*i]) else {
                continue;
            };
            let v = &self.vehicles[d.vehicle];
            let track = self.tracks.entry(imei.to_string()).or_default();
            if track
                .back()
                .is_some_and(|t| (self.now - t.time).num_seconds() < 60)
                || d.health == DeviceHealth::Expired
            {
                continue;
            }
            track.push_back(TrackPoint {
                time: self.now,
                lat: v.pos.lat,
                lng: v.pos.lng,
                speed_kmh: v.speed_kmh,
                heading: v.heading,
                acc_on: v.acc_on,
            });
            if track.len() > TRACK_KEEP {
                track.pop_front();
            }
        }
    }

    fn advance(&mut self, v: usize, dt: f64, out: &mut Vec<Push>) {
        let now = self.now;
        let roads = self.roads.clone();
        let first = &self.devices[self.first_device[v]];
        let imei = first.imei.clone();
        // One sub-account has the vendor's Open API alarm push configured instead of the hub's
        // (a vehicle's trackers are all in its account).
        let via_open_api = first.account == ACCOUNTS[2];
        let plate = self.vehicles[v].plate.clone();
        let alarm = |ty: &str, p: Point, speed: f64, value: Option<&str>| {
            if via_open_api && ty != fleet_core::jimi::REMOVE_ALARM {
                return Push {
                    path: "alarm",
                    item: json!({"imei": imei, "deviceName": plate, "alarmType": ty, "alarmName": alarm_name(ty),
                                 "lat": (p.lat * 1e6).round() / 1e6, "lng": (p.lng * 1e6).round() / 1e6, "alarmTime": format_time(now)}),
                };
            }
            Push {
                path: "pushalarm",
                item: json!({"msgClass": "0", "type": "alarm", "gateTime": format_time(now),
                             "msg": {"deviceImei": imei, "alertType": ty, "alarmTime": format_time(now), "lat": format!("{:.6}", p.lat),
                                     "lng": format!("{:.6}", p.lng), "gpsSpeed": format!("{speed:.0}"), "alertValue": value}}),
            }
        };
        let event = |ty: &str, t: DateTime<Utc>| Push {
            path: "pushevent",
            item: json!({"deviceImei": imei, "type": ty, "gateTime": format_time(t), "timezone": "0"}),
        };
        let rng = &mut self.rng;
        let veh = &mut self.vehicles[v];
        if let Some(until) = veh.sos_until
            && now >= until
        {
            veh.sos_until = None;
            out.push(alarm("removeAlarmType", veh.pos, veh.speed_kmh, Some("1")));
        }
        // Rare alarms: SOS (cleared a few minutes later) and power cut, about once a week each.
        if veh.sos_until.is_none() && rng.chance(dt / (7.0 * 86_400.0)) {
            veh.sos_until = Some(now + Duration::seconds(rng.range(60.0, 300.0) as i64));
            out.push(alarm("1", veh.pos, veh.speed_kmh, None));
        }
        // A power cut logs the tracker out until power returns a minute or so later.
        if rng.chance(dt / (10.0 * 86_400.0)) {
            out.push(alarm("2", veh.pos, veh.speed_kmh, None));
            out.push(event("LOGOUT", now));
            veh.relogin_at = Some(now + Duration::seconds(rng.range(30.0, 180.0) as i64));
        }
        if let Some(t) = veh.relogin_at
            && now >= t
        {
            veh.relogin_at = None;
            out.push(event("LOGIN", now));
        }
        match &mut veh.activity {
            Activity::Parked { until } | Activity::Idling { until } if now < *until => {
                veh.speed_kmh = 0.0;
            }
            Activity::Parked { .. } if rng.chance(0.3) => {
                veh.acc_on = true;
                veh.activity = Activity::Idling {
                    until: now + Duration::seconds(rng.range(60.0, 420.0) as i64),
                };
            }
            Activity::Parked { .. } | Activity::Idling { .. } => {
                let dest = rng.below(roads.nodes.len());
                match roads.route(veh.node, dest).filter(|p| p.len() >= 2) {
                    Some(path) => {
                        self.stops.push_back(StopRecord {
                            vehicle: v,
                            start: veh.stopped_since,
                            end: now,
                            at: veh.pos,
                        });
                        if self.stops.len() > RECORDS_KEEP {
                            self.stops.pop_front();
                        }
                        veh.acc_on = true;
                        veh.trip = Some(TripStart {
                            time: now,
                            pos: veh.pos,
                            odometer_m: veh.odometer_m,
                            max_speed: 0.0,
                        });
                        veh.activity = Activity::Driving {
                            path,
                            leg: 0,
                            along_m: 0.0,
                            warned_speeding: false,
                        };
                    }
                    None => {
                        veh.activity = Activity::Parked {
                            until: now + Duration::seconds(60),
                        }
                    }
                }
            }
            Activity::Driving {
                path,
                leg,
                along_m,
                warned_speeding,
            } => {
                let (a, b) = (path[*leg], path[*leg + 1]);
                let limit = roads.edge_speed(a, b);
                let target = (limit * veh.temperament * rng.range(0.85, 1.1)).max(5.0);
                // Smooth acceleration; an occasional hard brake.
                if rng.chance(0.0008) && veh.speed_kmh > 30.0 {
                    out.push(alarm("48", veh.pos, veh.speed_kmh, None));
                    veh.speed_kmh *= 0.4;
                } else {
                    veh.speed_kmh += (target - veh.speed_kmh).clamp(-12.0 * dt, 8.0 * dt);
                }
                if veh.speed_kmh > limit + 15.0 && !*warned_speeding {
                    *warned_speeding = true;
                    out.push(alarm(
                        "overSpeed",
                        veh.pos,
                        veh.speed_kmh,
                        Some(&format!("{limit:.0}")),
                    ));
                }
                if let Some(t) = &mut veh.trip {
                    t.max_speed = t.max_speed.max(veh.speed_kmh);
                }
                let mut move_m = veh.speed_kmh / 3.6 * dt;
                veh.odometer_m += move_m;
                loop {
                    let (pa, pb) = (roads.nodes[path[*leg]], roads.nodes[path[*leg + 1]]);
                    let seg = haversine_m(pa, pb);
                    if *along_m + move_m < seg {
                        *along_m += move_m;
                        let f = *along_m / seg;
                        veh.pos = Point {
                            lat: pa.lat + (pb.lat - pa.lat) * f,
                            lng: pa.lng + (pb.lng - pa.lng) * f,
                        };
                        veh.heading = bearing_deg(pa, pb);
                        break;
                    }
                    move_m -= seg - *along_m;
                    *along_m = 0.0;
                    *leg += 1;
                    veh.node = path[*leg];
                    veh.pos = roads.nodes[veh.node];
                    if *leg + 1 >= path.len() {
                        veh.speed_kmh = 0.0;
                        veh.acc_on = false;
                        veh.stopped_since = now;
                        if let Some(t) = veh.trip.take() {
                            self.trips.push_back(TripRecord {
                                vehicle: v,
                                start: t.time,
                                end: now,
                                from: t.pos,
                                to: veh.pos,
                                start_odometer_m: t.odometer_m,
                                end_odometer_m: veh.odometer_m,
                                max_speed_kmh: t.max_speed,
                            });
                            if self.trips.len() > RECORDS_KEEP {
                                self.trips.pop_front();
                            }
                            let secs = (now - t.time).num_seconds().max(1);
                            let dist = veh.odometer_m - t.odometer_m;
                            // The push's fields are not public: these follow the polled trip reports
                            // (jimi.device.track.mileage / report.trips), mileage in metres.
                            out.push(Push {
                                path: "pushtripreport",
                                item: json!({"deviceImei": imei, "startTime": format_time(t.time), "endTime": format_time(now),
                                             "startLat": format!("{:.6}", t.pos.lat), "startLng": format!("{:.6}", t.pos.lng),
                                             "endLat": format!("{:.6}", veh.pos.lat), "endLng": format!("{:.6}", veh.pos.lng),
                                             "runTimeSecond": secs.to_string(), "avgSpeed": format!("{:.1}", dist / secs as f64 * 3.6),
                                             "maxSpeed": format!("{:.0}", t.max_speed),
                                             "startMileage": format!("{:.0}", t.odometer_m), "endMileage": format!("{:.0}", veh.odometer_m)}),
                            });
                        }
                        veh.activity = Activity::Parked {
                            until: now + Duration::seconds(rng.range(180.0, 2400.0) as i64),
                        };
                        break;
                    }
                }
            }
        }
    }

    fn report(&mut self, out: &mut Vec<Push>) {
        let now = self.now;
        for d in &mut self.devices {
            if d.health == DeviceHealth::Silent {
                continue;
            }
            let v = &self.vehicles[d.vehicle];
            if now >= d.next_fix {
                d.next_fix = now + Duration::seconds(d.report_every);
                let (lat, lng) = if d.health == DeviceHealth::Expired {
                    (0.0, 0.0)
                } else {
                    (v.pos.lat, v.pos.lng)
                };
                out.push(Push {
                    path: "pushgps",
                    item: json!({
                        "deviceImei": d.imei, "gpsTime": format_time(now), "gateTime": format_time(now),
                        "satelliteNum": (8 + (d.imei.len() % 5)).to_string(),
                        "lat": format!("{lat:.6}"), "lng": format!("{lng:.6}"),
                        "gpsMode": "0", "gpsSpeed": format!("{:.0}", v.speed_kmh),
                        "direction": if v.speed_kmh > 0.0 { format!("{:.0}", v.heading) } else { "-1".to_string() },
                        "acc": if v.acc_on { "1" } else { "0" }, "postType": "1", "altitude": "40",
                        "distance": format!("{:.0}", v.odometer_m), "status": "1",
                    }),
                });
            }
            if now >= d.next_hb {
                d.next_hb = now + Duration::seconds(300);
                out.push(Push {
                    path: "pushhb",
                    item: json!({"deviceImei": d.imei, "gateTime": format_time(now), "powerLevel": "6", "gsmSign": "4",
                                 "acc": if v.acc_on { "1" } else { "0" }, "powerStatus": "1"}),
                });
            }
        }
        for (i, v) in self.vehicles.iter_mut().enumerate() {
            let Some(d) = self
                .devices
                .iter()
                .find(|d| d.vehicle == i && d.health == DeviceHealth::Reporting)
            else {
                continue;
            };
            if v.has_sensors && now >= v.next_sensor {
                v.next_sensor = now + Duration::seconds(300);
                // The tank drains with distance (refills are the fuel module's business).
                let litres = 20.0 + (60.0 - (v.odometer_m / 1000.0 * 0.11) % 55.0);
                out.push(Push {
                    path: "pushoil",
                    item: json!({"deviceImei": d.imei, "gateTime": format_time(now), "oilValue": format!("{litres:.1}L"), "oilPercent": format!("{:.0}", litres / 80.0 * 100.0)}),
                });
                out.push(Push {
                    path: "pushtem",
                    item: json!({"deviceImei": d.imei, "gateTime": format_time(now), "temperature1": if v.acc_on { "6.5" } else { "4.0" }}),
                });
            }
            // Parked in a garage, a tracker falls back to cell towers now and then.
            if v.speed_kmh == 0.0 && now >= v.next_lbs {
                v.next_lbs = now + Duration::seconds(900);
                out.push(Push {
                    path: "pushlbs",
                    item: json!({"deviceImei": d.imei, "gateTime": format_time(now), "postType": "2",
                                 "lbsJson": {"mcc": 212, "mnc": 10, "cellList": format!("{},{},-{};{},{},-{}", 1000 + i, 20_000 + i * 7, 60 + i % 30, 1001 + i, 20_100 + i * 7, 75 + i % 20)}}),
                });
            }
            if v.has_obd && now >= v.next_obd {
                v.next_obd = now + Duration::seconds(60);
                let Some(d) = self
                    .devices
                    .iter()
                    .find(|d| d.vehicle == i && d.health == DeviceHealth::Reporting)
                else {
                    continue;
                };
                out.push(Push {
                    path: "pushobd",
                    item: json!({"imei": d.imei, "dataReportTime": format_time(now), "odometerReading": format!("{:.1}", v.odometer_m / 1000.0),
                                 "currentSpeed": format!("{:.0}", v.speed_kmh), "currentRPM": if v.acc_on { format!("{:.0}", 800.0 + v.speed_kmh * 30.0) } else { "0".into() },
                                 "coolantTemperature": if v.acc_on { "88" } else { "30" }, "vehicleBatterVoltage": "12.6"}),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use fleet_geo::MONACO_PBF;

    fn sim(seed: u64) -> Sim {
        let roads = Arc::new(Roads::from_pbf(MONACO_PBF).expect("roads"));
        Sim::new(
            roads,
            40,
            seed,
            Utc.with_ymd_and_hms(2026, 11, 23, 6, 0, 0)
                .single()
                .expect("t"),
        )
    }

    #[test]
    fn the_same_seed_gives_the_same_pushes() {
        let (mut a, mut b, mut c) = (sim(7), sim(7), sim(8));
        let (pa, pb, pc) = (a.step(600.0), b.step(600.0), c.step(600.0));
        assert_eq!(pa, pb);
        assert_ne!(pa, pc);
    }

    #[test]
    fn an_hour_of_fleet_life_looks_real() {
        let mut s = sim(42);
        let pushes: Vec<Push> = (0..360).flat_map(|_| s.step(10.0)).collect();
        let count = |p: &str| pushes.iter().filter(|x| x.path == p).count();
        // 40 vehicles with a fix every 10 s (second trackers every 30 s), minus the silent ones.
        assert!(count("pushgps") > 40 * 300, "{} fixes", count("pushgps"));
        assert!(count("pushhb") > 40 * 10);
        assert!(count("pushevent") >= 40);
        assert!(count("pushobd") > 0);
        for path in [
            "pushtripreport",
            "pushoil",
            "pushtem",
            "pushlbs",
            "pushalarm",
            "alarm",
        ] {
            assert!(count(path) > 0, "the fleet pushes on {path}");
        }
        // Vehicles moved on real roads: some fixes are fast, all valid ones are in Monaco.
        let fixes: Vec<&Value> = pushes
            .iter()
            .filter(|p| p.path == "pushgps")
            .map(|p| &p.item)
            .collect();
        let moving = fixes
            .iter()
            .filter(|f| {
                f["gpsSpeed"]
                    .as_str()
                    .and_then(|s| s.parse::<f64>().ok())
                    .is_some_and(|v| v > 20.0)
            })
            .count();
        assert!(moving > 1000, "{moving} moving fixes");
        let zero = fixes.iter().filter(|f| f["lat"] == "0.000000").count();
        assert!(zero > 0, "an expired device reports 0,0");
        for f in fixes.iter().filter(|f| f["lat"] != "0.000000") {
            let lat: f64 = f["lat"].as_str().and_then(|s| s.parse().ok()).expect("lat");
            assert!((43.6..43.8).contains(&lat));
        }
        // The fleet spans the three sub-accounts, and some vehicles carry two trackers.
        assert!(
            ACCOUNTS
                .iter()
                .all(|a| s.devices.iter().any(|d| d.account == *a))
        );
        assert!(s.devices.iter().any(|d| d.model == "AT4"));
        assert!(s.devices.iter().any(|d| d.health == DeviceHealth::Silent));
    }
}
