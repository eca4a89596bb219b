"""A small table of real-world cities for synthetic topologies.

Each city has what Ark says about a VP there (``cc``, ``st``, ``place``,
``latlong``, ``iata``) and the continent it is on, which the generator uses to
spread VPs over the world and to give each region its own access networks.
Coordinates are city centres, rounded to 0.01 degree: good enough for
delays, which only need distances to within a few kilometres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class City:
    iata: str
    place: str
    cc: str
    st: str | None
    lat: float
    lon: float
    region: str
    hub: bool = False  # where transit networks meet (large exchange points)

    @property
    def latlong(self) -> tuple[float, float]:
        return (self.lat, self.lon)


def _c(
    iata: str, place: str, cc: str, st: str | None, lat: float, lon: float, hub: bool = False
) -> tuple[str, str, str, str | None, float, float, bool]:
    return (iata, place, cc, st, lat, lon, hub)


# Region -> cities. Hubs first; the order is only a tie-breaker.
_TABLE = {
    "north-america": [
        _c("JFK", "New York", "US", "NY", 40.71, -74.01, hub=True),
        _c("LAX", "Los Angeles", "US", "CA", 34.05, -118.24, hub=True),
        _c("MIA", "Miami", "US", "FL", 25.76, -80.19, hub=True),
        _c("ORD", "Chicago", "US", "IL", 41.88, -87.63),
        _c("YYZ", "Toronto", "CA", "ON", 43.65, -79.38),
        _c("SEA", "Seattle", "US", "WA", 47.61, -122.33),
        _c("DFW", "Dallas", "US", "TX", 32.78, -96.80),
        _c("ATL", "Atlanta", "US", "GA", 33.75, -84.39),
        _c("DEN", "Denver", "US", "CO", 39.74, -104.99),
        _c("YUL", "Montreal", "CA", "QC", 45.50, -73.57),
        _c("MEX", "Mexico City", "MX", "CMX", 19.43, -99.13),
        _c("SAN", "San Diego", "US", "CA", 32.72, -117.16),
        _c("YVR", "Vancouver", "CA", "BC", 49.28, -123.12),
    ],
    "south-america": [
        _c("GRU", "Sao Paulo", "BR", "SP", -23.55, -46.63, hub=True),
        _c("EZE", "Buenos Aires", "AR", "C", -34.60, -58.38),
        _c("SCL", "Santiago", "CL", "RM", -33.45, -70.67),
        _c("BOG", "Bogota", "CO", "DC", 4.71, -74.07),
        _c("LIM", "Lima", "PE", "LIM", -12.05, -77.04),
        _c("GIG", "Rio de Janeiro", "BR", "RJ", -22.91, -43.17),
    ],
    "europe": [
        _c("LHR", "London", "GB", "ENG", 51.51, -0.13, hub=True),
        _c("FRA", "Frankfurt", "DE", "HE", 50.11, 8.68, hub=True),
        _c("AMS", "Amsterdam", "NL", "NH", 52.37, 4.90, hub=True),
        _c("CDG", "Paris", "FR", "IDF", 48.86, 2.35),
        _c("ARN", "Stockholm", "SE", "AB", 59.33, 18.07),
        _c("MAD", "Madrid", "ES", "MD", 40.42, -3.70),
        _c("MXP", "Milan", "IT", "LOM", 45.46, 9.19),
        _c("WAW", "Warsaw", "PL", "MZ", 52.23, 21.01),
        _c("ZRH", "Zurich", "CH", "ZH", 47.38, 8.54),
        _c("DUB", "Dublin", "IE", "D", 53.35, -6.26),
        _c("VIE", "Vienna", "AT", "9", 48.21, 16.37),
        _c("HEL", "Helsinki", "FI", "18", 60.17, 24.94),
        _c("LIS", "Lisbon", "PT", "11", 38.72, -9.14),
    ],
    "africa": [
        _c("JNB", "Johannesburg", "ZA", "GT", -26.20, 28.05, hub=True),
        _c("CPT", "Cape Town", "ZA", "WC", -33.92, 18.42),
        _c("NBO", "Nairobi", "KE", "30", -1.29, 36.82),
        _c("LOS", "Lagos", "NG", "LA", 6.52, 3.38),
        _c("CAI", "Cairo", "EG", "C", 30.04, 31.24),
        _c("ACC", "Accra", "GH", "AA", 5.60, -0.19),
    ],
    "asia": [
        _c("NRT", "Tokyo", "JP", "13", 35.68, 139.69, hub=True),
        _c("SIN", "Singapore", "SG", None, 1.35, 103.82, hub=True),
        _c("HKG", "Hong Kong", "HK", None, 22.32, 114.17, hub=True),
        _c("BOM", "Mumbai", "IN", "MH", 19.08, 72.88),
        _c("ICN", "Seoul", "KR", "11", 37.57, 126.98),
        _c("TPE", "Taipei", "TW", "TPE", 25.03, 121.57),
        _c("BKK", "Bangkok", "TH", "10", 13.76, 100.50),
        _c("DEL", "Delhi", "IN", "DL", 28.61, 77.21),
        _c("DXB", "Dubai", "AE", "DU", 25.20, 55.27),
        _c("TLV", "Tel Aviv", "IL", "TA", 32.09, 34.78),
        _c("CGK", "Jakarta", "ID", "JK", -6.21, 106.85),
        _c("KIX", "Osaka", "JP", "27", 34.69, 135.50),
    ],
    "oceania": [
        _c("SYD", "Sydney", "AU", "NSW", -33.87, 151.21, hub=True),
        _c("AKL", "Auckland", "NZ", "AUK", -36.85, 174.76),
        _c("MEL", "Melbourne", "AU", "VIC", -37.81, 144.96),
        _c("PER", "Perth", "AU", "WA", -31.95, 115.86),
        _c("BNE", "Brisbane", "AU", "QLD", -27.47, 153.03),
        _c("HLZ", "Hamilton", "NZ", "WKO", -37.79, 175.28),
    ],
}

CITIES: tuple[City, ...] = tuple(
    City(iata, place, cc, st, lat, lon, region, hub)
    for region, rows in _TABLE.items()
    for iata, place, cc, st, lat, lon, hub in rows
)
REGIONS: tuple[str, ...] = tuple(_TABLE)
BY_IATA: dict[str, City] = {c.iata: c for c in CITIES}


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance between two ``(lat, long)`` points, in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
