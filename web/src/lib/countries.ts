// Where to draw a country on the threat map when GeoIP gave only its code (the bundled country database has no
// coordinates): the centroid of the country's largest polygon in the world-atlas shapes, or a fixed point for the
// small countries those shapes leave out.
import { geoArea, geoCentroid } from 'd3-geo';
import type { Feature, FeatureCollection, Geometry, Polygon } from 'geojson';

/** ISO 3166-1 alpha-2 code and numeric code (world-atlas ids are numeric) of every country in the 1:110m shapes. */
const NUMERIC =
  'AE784AF004AL008AM051AO024AQ010AR032AT040AU036AZ031BA070BD050BE056BF854BG100BI108BJ204BN096BO068BR076BS044BT064' +
  'BW072BY112BZ084CA124CD180CF140CG178CH756CI384CL152CM120CN156CO170CR188CU192CY196CZ203DE276DJ262DK208DO214DZ012' +
  'EC218EE233EG818EH732ER232ES724ET231FI246FJ242FK238FR250GA266GB826GE268GH288GL304GM270GN324GQ226GR300GT320GW624' +
  'GY328HN340HR191HT332HU348ID360IE372IL376IN356IQ368IR364IS352IT380JM388JO400JP392KE404KG417KH116KP408KR410KW414' +
  'KZ398LA418LB422LK144LR430LS426LT440LU442LV428LY434MA504MD498ME499MG450MK807ML466MM104MN496MR478MW454MX484MY458' +
  'MZ508NA516NC540NE562NG566NI558NL528NO578NP524NZ554OM512PA591PE604PG598PH608PK586PL616PR630PS275PT620PY600QA634' +
  'RO642RS688RU643RW646SA682SB090SD729SE752SI705SK703SL694SN686SO706SR740SS728SV222SY760SZ748TD148TF260TG768TH764' +
  'TJ762TL626TM795TN788TR792TT780TW158TZ834UA804UG800US840UY858UZ860VE862VN704VU548YE887ZA710ZM894ZW716';

/** Countries too small for the 1:110m shapes that often appear in logs: [lat, lon] of their main city. */
const SMALL: Record<string, [number, number]> = {
  SG: [1.35, 103.82],
  HK: [22.32, 114.17],
  MO: [22.2, 113.55],
  MT: [35.9, 14.51],
  BH: [26.07, 50.55],
  MU: [-20.16, 57.5],
  SC: [-4.62, 55.45],
  MV: [4.18, 73.51],
  AD: [42.51, 1.52],
  MC: [43.74, 7.42],
  LI: [47.14, 9.52],
  SM: [43.94, 12.45],
  VA: [41.9, 12.45],
  GI: [36.14, -5.35],
  IM: [54.15, -4.48],
  JE: [49.19, -2.11],
  GG: [49.45, -2.54],
  FO: [62.01, -6.77],
  AX: [60.1, 19.94],
  BB: [13.1, -59.62],
  AG: [17.12, -61.85],
  AW: [12.52, -70.03],
  CW: [12.12, -68.93],
  BM: [32.3, -64.78],
  KY: [19.29, -81.37],
  VG: [18.43, -64.62],
  VI: [18.34, -64.93],
  GU: [13.44, 144.79],
  RE: [-20.88, 55.45],
  GP: [16.24, -61.53],
  MQ: [14.6, -61.07],
  GF: [4.94, -52.33],
  PF: [-17.54, -149.57],
  CV: [14.93, -23.51],
  ST: [0.34, 6.73],
  KM: [-11.7, 43.26],
  WS: [-13.83, -171.76],
  TO: [-21.14, -175.2],
};

const numericOf = new Map<string, string>();
for (let i = 0; i < NUMERIC.length; i += 5) numericOf.set(NUMERIC.slice(i, i + 2), NUMERIC.slice(i + 2, i + 5));

/** The centroid of a shape's largest polygon, so France is placed in France and not between it and its islands. */
function mainCentroid(geometry: Geometry): [number, number] {
  if (geometry.type !== 'MultiPolygon') return geoCentroid(geometry);
  let best: Polygon | undefined;
  let bestArea = -1;
  for (const coordinates of geometry.coordinates) {
    const polygon: Polygon = { type: 'Polygon', coordinates };
    const area = geoArea(polygon);
    if (area > bestArea) {
      bestArea = area;
      best = polygon;
    }
  }
  return best ? geoCentroid(best) : geoCentroid(geometry);
}

/** Answers [lat, lon] for an ISO 3166-1 alpha-2 code (any case), or undefined when the country is unknown. */
export function countryLocator(world: FeatureCollection<Geometry>): (code: string) => [number, number] | undefined {
  const byId = new Map<string, Feature<Geometry>>();
  const byName = new Map<string, Feature<Geometry>>();
  for (const f of world.features) {
    if (f.id !== undefined) byId.set(String(f.id), f);
    const name = (f.properties as { name?: unknown } | null)?.name;
    if (typeof name === 'string') byName.set(name, f);
  }
  const cache = new Map<string, [number, number] | undefined>();
  return (code) => {
    const key = code.toUpperCase();
    if (cache.has(key)) return cache.get(key);
    let at: [number, number] | undefined = SMALL[key];
    if (!at) {
      const numeric = numericOf.get(key);
      // Kosovo has a user-assigned code (XK) and no numeric one; the shapes name it.
      const shape = numeric ? byId.get(numeric) : key === 'XK' ? byName.get('Kosovo') : undefined;
      if (shape) {
        const [lon, lat] = mainCentroid(shape.geometry);
        at = [lat, lon];
      }
    }
    cache.set(key, at);
    return at;
  };
}
