"""Which coordinate reference systems areas, densities and contiguity are computed in.

The rule for user data (stated in the README):

- **Areas and densities** are computed in the file's own CRS when it is projected, in metres,
  and equal-area (Albers, Lambert azimuthal or cylindrical equal area, Mollweide, Equal Earth,
  sinusoidal...): the CRS says its areas are true. Otherwise (geographic coordinates, or a
  conformal projection such as UTM or Lambert conformal conic) they are computed in a Lambert
  azimuthal equal-area projection on the WGS 84 ellipsoid centred on the middle of the data, whose
  areas are true anywhere on Earth.
- **Contiguity, distances and shapes** use the file's own CRS when it is projected in metres,
  otherwise that same equal-area projection (so a snapping tolerance is in metres everywhere).
- **Outputs** keep the file's CRS (GeoPackage); GeoJSON is written in EPSG:4326 as RFC 7946 asks.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from pyproj import CRS

EQUAL_AREA_METHODS = ("equal area", "equal earth", "mollweide", "sinusoidal", "eckert iv", "eckert vi",
                      "goode homolosine", "quartic authalic")
"""Words of a projection method's name (lower case) that make its areas true."""


def in_metres(crs) -> bool:
    """Whether ``crs`` is projected with axes in metres."""
    crs = CRS(crs)
    return crs.is_projected and all(abs(axis.unit_conversion_factor - 1.0) < 1e-12 for axis in crs.axis_info[:2])


def is_equal_area(crs) -> bool:
    """Whether ``crs`` is a projection in metres whose areas are true (see ``EQUAL_AREA_METHODS``)."""
    crs = CRS(crs)
    if not in_metres(crs) or crs.coordinate_operation is None:
        return False
    method = crs.coordinate_operation.method_name.lower()
    return any(word in method for word in EQUAL_AREA_METHODS)


def local_equal_area(gdf: gpd.GeoDataFrame) -> CRS:
    """A Lambert azimuthal equal-area CRS (WGS 84 ellipsoid, metres) centred on the data.

    The centre is the middle of the data's longitude and latitude extent, rounded to 0.01 degree
    so that the same data always gets the same CRS.
    """
    west, south, east, north = gdf.geometry.to_crs("EPSG:4326").total_bounds
    if east - west > 180:  # data across the antimeridian: centre on the other side
        lon = ((west + east) / 2 + 360) % 360 - 180
    else:
        lon = (west + east) / 2
    lat = (south + north) / 2
    return CRS.from_proj4(f"+proj=laea +lat_0={lat:.2f} +lon_0={lon:.2f} +x_0=0 +y_0=0 +ellps=WGS84 "
                          "+units=m +no_defs +type=crs")


def area_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """The CRS areas of ``gdf`` are computed in: its own when equal-area, else ``local_equal_area``."""
    return CRS(gdf.crs) if is_equal_area(gdf.crs) else local_equal_area(gdf)


def working_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """The CRS for contiguity, distances and shapes: its own when projected in metres, else the area CRS."""
    return CRS(gdf.crs) if in_metres(gdf.crs) else local_equal_area(gdf)


def areas_km2(gdf: gpd.GeoDataFrame, crs=None) -> pd.Series:
    """Area of each polygon in km2, computed in ``crs`` (default ``area_crs(gdf)``)."""
    crs = area_crs(gdf) if crs is None else CRS(crs)
    geoms = gdf.geometry if CRS(gdf.crs) == crs else gdf.geometry.to_crs(crs)
    return pd.Series(geoms.area.to_numpy() / 1e6, index=gdf.index, name="area_km2")


def describe(crs) -> str:
    """A short name of ``crs`` for messages.

    ``EPSG:5070 (NAD83 / Conus Albers)`` for a registered CRS; otherwise its projection and centre,
    e.g. ``Lambert Azimuthal Equal Area centred on 35.5, -79.5 (WGS 84)``.
    """
    crs = CRS(crs)
    code = crs.to_authority()
    if code is not None:
        return f"{code[0]}:{code[1]} ({crs.name})"
    operation = crs.coordinate_operation
    if operation is None:
        return crs.name
    params = {p.name: p.value for p in operation.params}
    lat = params.get("Latitude of natural origin", params.get("Latitude of false origin"))
    lon = params.get("Longitude of natural origin", params.get("Longitude of false origin"))
    centre = f" centred on {lat:g}, {lon:g}" if lat is not None and lon is not None else ""
    return f"{operation.method_name}{centre} ({crs.ellipsoid.name if crs.ellipsoid else 'unknown ellipsoid'})"
