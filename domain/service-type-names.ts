/**
 * What each service family (domain/service-types.ts) is called in each language the customers read: for the
 * portal and the mails alike, so a French customer never reads "dedicated/server" or "domain".
 */
export type NameLanguage = 'es' | 'en' | 'fr';

// [es, en, fr]; product names the provider does not translate stay as they are.
const NAMES: Record<string, [string, string, string]> = {
  'analytics/platforms': [
    'plataforma de análisis de datos',
    'data analytics platform',
    "plateforme d'analyse de données",
  ],
  'caas/containers': ['plataforma de contenedores', 'container platform', 'plateforme de conteneurs'],
  'caas/registry': ['registro de contenedores', 'container registry', 'registre de conteneurs'],
  'cdn/dedicated': ['CDN dedicada', 'dedicated CDN', 'CDN dédié'],
  'cloud/project': ['proyecto Public Cloud', 'Public Cloud project', 'projet Public Cloud'],
  'dbaas/logs': ['plataforma de logs', 'logs data platform', 'plateforme de logs'],
  'dbaas/timeseries': [
    'base de datos de series temporales',
    'time series database',
    'base de séries temporelles',
  ],
  'dedicated/anthos/tenants': ['tenant Anthos', 'Anthos tenant', 'tenant Anthos'],
  'dedicated/ceph': ['Cloud Disk Array', 'Cloud Disk Array', 'Cloud Disk Array'],
  'dedicated/cluster': ['clúster dedicado', 'dedicated cluster', 'cluster dédié'],
  'dedicated/nasha': ['NAS-HA', 'HA-NAS', 'NAS-HA'],
  'dedicated/server': ['servidor dedicado', 'dedicated server', 'serveur dédié'],
  dedicatedCloud: ['Hosted Private Cloud', 'Hosted Private Cloud', 'Hosted Private Cloud'],
  deskaas: ['escritorio en la nube', 'cloud desktop', 'bureau cloud'],
  domain: ['dominio', 'domain', 'domaine'],
  'domain/zone': ['zona DNS', 'DNS zone', 'zone DNS'],
  'email/domain': ['dominio de correo', 'email domain', 'domaine e-mail'],
  'email/pro': ['Email Pro', 'Email Pro', 'E-mail Pro'],
  'hosting/privateDatabase': ['base de datos privada', 'private database', 'base de données privée'],
  'hosting/reseller': ['alojamiento para revendedores', 'reseller hosting', 'hébergement revendeur'],
  'hosting/web': ['alojamiento web', 'web hosting', 'hébergement web'],
  'ip/service': ['dirección IP', 'IP address', 'adresse IP'],
  ipLoadbalancing: ['balanceador de carga', 'load balancer', 'répartiteur de charge'],
  kube: ['clúster Kubernetes', 'Kubernetes cluster', 'cluster Kubernetes'],
  metrics: ['plataforma de métricas', 'metrics platform', 'plateforme de métriques'],
  msServices: ['servicios Microsoft', 'Microsoft services', 'services Microsoft'],
  nutanix: ['clúster Nutanix', 'Nutanix cluster', 'cluster Nutanix'],
  overTheBox: ['OverTheBox', 'OverTheBox', 'OverTheBox'],
  ovhCloudConnect: ['OVHcloud Connect', 'OVHcloud Connect', 'OVHcloud Connect'],
  'pack/siptrunk': ['pack SIP trunk', 'SIP trunk pack', 'pack SIP trunk'],
  'pack/xdsl': ['pack xDSL', 'xDSL pack', 'pack xDSL'],
  sslGateway: ['pasarela SSL', 'SSL gateway', 'passerelle SSL'],
  'storage/netapp': ['almacenamiento NetApp', 'NetApp storage', 'stockage NetApp'],
  telephony: ['cuenta de telefonía', 'telephony account', 'compte de téléphonie'],
  'telephony/aliases': ['número de teléfono', 'telephone number', 'numéro de téléphone'],
  'telephony/lines': ['línea telefónica', 'telephone line', 'ligne téléphonique'],
  'telephony/trunks': ['SIP trunk', 'SIP trunk', 'SIP trunk'],
  vps: ['VPS', 'VPS', 'VPS'],
  xdsl: ['acceso a internet xDSL', 'xDSL internet access', 'accès internet xDSL'],
};

const COLUMN: Record<NameLanguage, 0 | 1 | 2> = { es: 0, en: 1, fr: 2 };

/** The family's name in the language; a family without a name yet shows as its type rather than nothing. */
export function serviceTypeName(language: NameLanguage, type: string): string {
  return NAMES[type]?.[COLUMN[language]] ?? type;
}

export function hasServiceTypeName(type: string): boolean {
  return type in NAMES;
}
