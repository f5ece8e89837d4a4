"""Master data shared by events and extracts: customers, products, campaigns, agents,
services, test suites and exchange rates.

Generated once, numerically, so that every event references entities that really exist
in the snapshots (the point of the simulator is that cross-domain joins work).
Entity number i is row i - 1 of its arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.simulator.config import DAY_MS, HOUR_MS, SimulationConfig
from pipelines.simulator.randomness import random_stream

CURRENCIES = ("EUR", "USD", "GBP")
SEGMENTS = ("enterprise", "mid_market", "smb", "consumer")
REGIONS = ("emea", "amer", "apac")
PRODUCT_CATEGORIES = ("hardware", "software", "services", "subscriptions")
CAMPAIGN_CHANNELS = ("email", "social", "search", "display", "events")
CAMPAIGN_OBJECTIVES = ("awareness", "acquisition", "retention", "upsell")
AGENT_TEAMS = ("tier1", "tier2", "billing", "technical")
DOMAINS = ("sales", "finance", "marketing", "support", "devops", "qa")
TIERS = ("tier1", "tier2", "tier3")
SUITE_KINDS = ("unit", "integration", "e2e", "performance")

FIRST_NAMES = (
    "Anna",
    "Ben",
    "Chloe",
    "David",
    "Elif",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kofi",
    "Lena",
    "Mateo",
    "Nora",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tamara",
    "Umar",
    "Vera",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amara",
    "Bruno",
    "Camille",
    "Dmitri",
    "Emma",
    "Felix",
    "Giulia",
    "Hannah",
    "Ivan",
    "Julia",
    "Karim",
    "Laura",
    "Marco",
    "Nina",
)
LAST_NAMES = (
    "Schmidt",
    "Okafor",
    "Garcia",
    "Nakamura",
    "Dubois",
    "Rossi",
    "Novak",
    "Kowalski",
    "Andersen",
    "Haddad",
    "Silva",
    "Murphy",
    "Jansen",
    "Costa",
    "Fischer",
    "Yilmaz",
    "Chen",
    "Patel",
    "Moreau",
    "Larsen",
    "Ivanova",
    "Santos",
    "Weber",
    "Kim",
    "Nguyen",
    "Becker",
    "Martin",
    "Lopez",
    "Horvat",
    "Berg",
    "Mensah",
    "Popescu",
    "Walsh",
    "Ali",
)
MAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example")
PRODUCT_ADJECTIVES = (
    "Compact",
    "Pro",
    "Smart",
    "Ultra",
    "Eco",
    "Rapid",
    "Secure",
    "Cloud",
    "Modular",
    "Quiet",
)
PRODUCT_NOUNS = (
    "Router",
    "Laptop",
    "Monitor",
    "Sensor",
    "Backup Plan",
    "Analytics Suite",
    "Support Pack",
    "Firewall",
    "Dock",
    "Headset",
    "Storage Box",
    "License",
    "Training",
    "Camera",
    "Keyboard",
    "Gateway",
    "Printer",
    "Scanner",
    "Tablet",
    "Server",
)
SERVICE_NAMES: tuple[tuple[str, str], ...] = (
    ("checkout-api", "sales"),
    ("orders-service", "sales"),
    ("cart-service", "sales"),
    ("catalog-service", "sales"),
    ("pricing-engine", "sales"),
    ("storefront-web", "sales"),
    ("mobile-bff", "sales"),
    ("billing-service", "finance"),
    ("payments-gateway", "finance"),
    ("ledger", "finance"),
    ("invoicing-worker", "finance"),
    ("fx-feed", "finance"),
    ("refunds-service", "finance"),
    ("campaigns-service", "marketing"),
    ("leads-api", "marketing"),
    ("newsletter-worker", "marketing"),
    ("ad-tracker", "marketing"),
    ("landing-pages", "marketing"),
    ("segmentation-job", "marketing"),
    ("helpdesk-api", "support"),
    ("chat-gateway", "support"),
    ("sla-monitor", "support"),
    ("kb-search", "support"),
    ("phone-bridge", "support"),
    ("agent-console", "support"),
    ("deployer", "devops"),
    ("pager", "devops"),
    ("metrics-collector", "devops"),
    ("log-shipper", "devops"),
    ("edge-proxy", "devops"),
    ("secrets-broker", "devops"),
    ("dns-manager", "devops"),
    ("ci-runner", "qa"),
    ("test-orchestrator", "qa"),
    ("flaky-tracker", "qa"),
    ("coverage-service", "qa"),
    ("load-generator", "qa"),
    ("contract-verifier", "qa"),
    ("e2e-harness", "qa"),
    ("device-farm", "qa"),
)
CAMPAIGN_THEMES = (
    "Autumn",
    "Winter",
    "Spring",
    "Summer",
    "Launch",
    "Loyalty",
    "Black Friday",
    "Webinar",
    "Partner",
    "Upgrade",
    "Win-back",
    "Referral",
)

SEGMENT_CHANGE_PER_WEEK = 0.02


@dataclass(frozen=True)
class Customers:
    """Customers sorted by creation time, plus their segment changes (for type-2 history)."""

    created_ms: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    mail_domain: np.ndarray
    region: np.ndarray
    segment: np.ndarray
    change_ms: np.ndarray
    change_customer: np.ndarray
    change_segment: np.ndarray

    def count_created_before(self, t_ms: np.ndarray | int) -> np.ndarray:
        """How many customers exist strictly before each time (customers 1..count)."""
        return np.searchsorted(self.created_ms, t_ms, side="left")

    def segments_at(self, t_ms: int) -> np.ndarray:
        """Segment code of every customer as of `t_ms` (later changes not yet applied)."""
        segment = self.segment.copy()
        applied = self.change_ms < t_ms
        who, new = self.change_customer[applied], self.change_segment[applied]
        # numpy leaves repeated fancy-index assignment unspecified: keep each latest change.
        _, last_from_end = np.unique(who[::-1], return_index=True)
        latest = who.size - 1 - last_from_end
        segment[who[latest]] = new[latest]
        return segment


@dataclass(frozen=True)
class Products:
    name: np.ndarray
    category: np.ndarray
    list_price: np.ndarray
    currency: np.ndarray
    is_active: np.ndarray


@dataclass(frozen=True)
class Campaigns:
    """Campaigns sorted by launch time; those launched before the window have no event."""

    launch_ms: np.ndarray
    name: np.ndarray
    channel: np.ndarray
    budget: np.ndarray
    currency: np.ndarray
    start_day: np.ndarray
    end_day: np.ndarray
    objective: np.ndarray
    first_launched_in_window: int

    def count_launched_before(self, t_ms: np.ndarray | int) -> np.ndarray:
        return np.searchsorted(self.launch_ms, t_ms, side="left")


@dataclass(frozen=True)
class Agents:
    team: np.ndarray
    hired_day: np.ndarray
    is_active: np.ndarray


@dataclass(frozen=True)
class Services:
    name: np.ndarray
    owner_domain: np.ndarray
    tier: np.ndarray
    deploy_weight: np.ndarray
    version_major: np.ndarray
    prior_deployments: np.ndarray


@dataclass(frozen=True)
class TestSuites:
    service: np.ndarray
    name: np.ndarray
    kind: np.ndarray
    test_count: np.ndarray
    first_of_service: np.ndarray
    count_of_service: np.ndarray


@dataclass(frozen=True)
class FxRates:
    """Rate to EUR per day (rows) and currency (columns, in CURRENCIES order)."""

    rate_to_eur: np.ndarray


@dataclass(frozen=True)
class MasterData:
    customers: Customers
    products: Products
    campaigns: Campaigns
    agents: Agents
    services: Services
    suites: TestSuites
    fx: FxRates


def epoch_day(t_ms: np.ndarray | int) -> np.ndarray:
    """Days since 1970-01-01 (what a `date` column stores)."""
    return np.floor_divide(t_ms, DAY_MS)


def _customers(config: SimulationConfig) -> Customers:
    rng = random_stream(config.seed, "customers")
    initial = max(1, round(2000 * config.scale))
    before = config.start_ms - rng.integers(1, 365 * DAY_MS, size=initial)
    new_counts = rng.poisson(20 * config.scale, size=config.days)
    new_day = np.repeat(np.arange(config.days, dtype=np.int64), new_counts)
    during = config.start_ms + new_day * DAY_MS + rng.integers(0, DAY_MS, size=new_day.size)
    created = np.sort(np.concatenate([before, during]))
    n = created.size
    segment = rng.choice(len(SEGMENTS), size=n, p=[0.05, 0.15, 0.35, 0.45]).astype(np.int8)
    current = segment.copy()
    change_ms: list[np.ndarray] = []
    change_customer: list[np.ndarray] = []
    change_segment: list[np.ndarray] = []
    for week in range((config.days + 6) // 7):
        week_start = config.day_ms(7 * week)
        week_len = min(7, config.days - 7 * week) * DAY_MS
        existing = int(np.searchsorted(created, week_start, side="left"))
        count = rng.binomial(existing, SEGMENT_CHANGE_PER_WEEK * week_len / (7 * DAY_MS))
        who = rng.choice(existing, size=count, replace=False)
        when = week_start + rng.integers(0, week_len, size=count)
        order = np.argsort(when, kind="stable")
        who, when = who[order], when[order]
        # A change always moves to another segment: shift by 1..3 modulo 4.
        new = (current[who] + rng.integers(1, len(SEGMENTS), size=count)) % len(SEGMENTS)
        current[who] = new.astype(np.int8)
        change_ms.append(when.astype(np.int64))
        change_customer.append(who.astype(np.int64))
        change_segment.append(new.astype(np.int8))
    return Customers(
        created_ms=created,
        first_name=rng.integers(0, len(FIRST_NAMES), size=n),
        last_name=rng.integers(0, len(LAST_NAMES), size=n),
        mail_domain=rng.integers(0, len(MAIL_DOMAINS), size=n),
        region=rng.choice(len(REGIONS), size=n, p=[0.45, 0.35, 0.2]).astype(np.int8),
        segment=segment,
        change_ms=np.concatenate(change_ms),
        change_customer=np.concatenate(change_customer),
        change_segment=np.concatenate(change_segment),
    )


def _products(config: SimulationConfig) -> Products:
    rng = random_stream(config.seed, "products")
    names = np.array([f"{a} {n}" for a in PRODUCT_ADJECTIVES for n in PRODUCT_NOUNS])
    names = names[rng.permutation(names.size)]
    n = names.size
    category = rng.integers(0, len(PRODUCT_CATEGORIES), size=n).astype(np.int8)
    base = np.array([400.0, 120.0, 900.0, 35.0])[category]
    return Products(
        name=names,
        category=category,
        list_price=np.round(base * rng.lognormal(0.0, 0.5, size=n), 2),
        currency=rng.choice(len(CURRENCIES), size=n, p=[0.7, 0.2, 0.1]).astype(np.int8),
        is_active=rng.random(n) < 0.95,
    )


def _campaigns(config: SimulationConfig) -> Campaigns:
    rng = random_stream(config.seed, "campaigns")
    initial = max(2, round(10 * config.scale))
    before = config.start_ms - rng.integers(DAY_MS, 120 * DAY_MS, size=initial)
    # Launches stop a day before the end so every launched campaign is in a later snapshot.
    launch_days = max(0, config.days - 1)
    counts = rng.poisson(1.0 * config.scale, size=launch_days)
    day = np.repeat(np.arange(launch_days, dtype=np.int64), counts)
    during = config.start_ms + day * DAY_MS + rng.integers(8 * HOUR_MS, 18 * HOUR_MS, size=day.size)
    launch = np.concatenate([np.sort(before), np.sort(during)])
    n = launch.size
    channel = rng.integers(0, len(CAMPAIGN_CHANNELS), size=n).astype(np.int8)
    theme = rng.integers(0, len(CAMPAIGN_THEMES), size=n)
    start_day = epoch_day(launch)
    # Campaigns live at the window start run into it, so early leads have live campaigns.
    planned_end = np.maximum(
        start_day + rng.integers(30, 180, size=n),
        epoch_day(config.start_ms) + rng.integers(7, 60, size=n),
    )
    end_day = np.where(rng.random(n) < 0.2, -1, planned_end)
    names = np.array(
        [
            f"{CAMPAIGN_THEMES[t]} {CAMPAIGN_CHANNELS[c].title()} #{i + 1}"
            for i, (t, c) in enumerate(zip(theme.tolist(), channel.tolist(), strict=True))
        ]
    )
    return Campaigns(
        launch_ms=launch,
        name=names,
        channel=channel,
        budget=np.round(rng.lognormal(np.log(20_000), 0.8, size=n), -2),
        currency=rng.choice(len(CURRENCIES), size=n, p=[0.6, 0.25, 0.15]).astype(np.int8),
        start_day=start_day,
        end_day=end_day,
        objective=rng.integers(0, len(CAMPAIGN_OBJECTIVES), size=n).astype(np.int8),
        first_launched_in_window=initial,
    )


def _agents(config: SimulationConfig) -> Agents:
    rng = random_stream(config.seed, "agents")
    n = 50
    return Agents(
        team=rng.choice(len(AGENT_TEAMS), size=n, p=[0.4, 0.25, 0.15, 0.2]).astype(np.int8),
        hired_day=epoch_day(config.start_ms) - rng.integers(30, 2500, size=n),
        is_active=rng.random(n) < 0.9,
    )


def _services(config: SimulationConfig) -> Services:
    rng = random_stream(config.seed, "services")
    n = len(SERVICE_NAMES)
    tier = rng.choice(len(TIERS), size=n, p=[0.25, 0.45, 0.3]).astype(np.int8)
    weight = np.array([3.0, 2.0, 1.0])[tier] * rng.uniform(0.5, 1.5, size=n)
    return Services(
        name=np.array([name for name, _ in SERVICE_NAMES]),
        owner_domain=np.array([DOMAINS.index(domain) for _, domain in SERVICE_NAMES], dtype=np.int8),
        tier=tier,
        deploy_weight=weight / weight.sum(),
        version_major=rng.integers(1, 5, size=n),
        prior_deployments=rng.integers(0, 300, size=n),
    )


def _suites(config: SimulationConfig, services: Services) -> TestSuites:
    rng = random_stream(config.seed, "test_suites")
    count = rng.integers(2, 5, size=services.name.size)
    service = np.repeat(np.arange(services.name.size), count)
    kind = np.concatenate([rng.choice(len(SUITE_KINDS), size=c, replace=False) for c in count.tolist()]).astype(np.int8)
    names = np.array([f"{services.name[s]} {SUITE_KINDS[k]}" for s, k in zip(service, kind, strict=True)])
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    return TestSuites(
        service=service,
        name=names,
        kind=kind,
        test_count=np.maximum(1, rng.lognormal(np.log(120), 0.9, size=service.size)).astype(np.int64),
        first_of_service=first,
        count_of_service=count,
    )


def _fx(config: SimulationConfig) -> FxRates:
    rng = random_stream(config.seed, "fx_rates")
    steps = rng.normal(0.0, 0.004, size=(config.days, 2))
    walk = np.exp(np.cumsum(steps, axis=0)) * np.array([0.92, 1.17])
    rates = np.column_stack([np.ones(config.days), np.round(walk, 6)])
    return FxRates(rate_to_eur=rates)


def build_master_data(config: SimulationConfig) -> MasterData:
    """All master data for the configured window."""
    services = _services(config)
    return MasterData(
        customers=_customers(config),
        products=_products(config),
        campaigns=_campaigns(config),
        agents=_agents(config),
        services=services,
        suites=_suites(config, services),
        fx=_fx(config),
    )
