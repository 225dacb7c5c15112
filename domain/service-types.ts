/**
 * The service families whose contacts the provider's API changes, named as the provider names them: the type is
 * the family's path (`/1.0/{type}/{serviceName}/changeContact` and `/serviceInfos`), and `parameter` is the name
 * the provider's API schema gives the service's path parameter. Taken from every family of the provider's public
 * API schema that has a `changeContact` operation; all of them but `msServices` also have `serviceInfos`.
 */
export interface ServiceType {
  type: string;
  parameter: string;
  serviceInfos: boolean;
}

const family = (type: string, parameter = 'serviceName', serviceInfos = true): ServiceType => ({
  type,
  parameter,
  serviceInfos,
});

export const SERVICE_TYPES: readonly ServiceType[] = [
  family('analytics/platforms'),
  family('caas/containers'),
  family('caas/registry'),
  family('cdn/dedicated'),
  family('cloud/project'),
  family('dbaas/logs'),
  family('dbaas/timeseries'),
  family('dedicated/anthos/tenants'),
  family('dedicated/ceph'),
  family('dedicated/cluster'),
  family('dedicated/nasha'),
  family('dedicated/server'),
  family('dedicatedCloud'),
  family('deskaas'),
  family('domain'),
  family('domain/zone', 'zoneName'),
  family('email/domain', 'domain'),
  family('email/pro', 'service'),
  family('hosting/privateDatabase'),
  family('hosting/reseller'),
  family('hosting/web'),
  family('ip/service'),
  family('ipLoadbalancing'),
  family('kube'),
  family('metrics'),
  family('msServices', 'serviceName', false),
  family('nutanix'),
  family('overTheBox'),
  family('ovhCloudConnect'),
  family('pack/siptrunk', 'packName'),
  family('pack/xdsl', 'packName'),
  family('sslGateway'),
  family('storage/netapp'),
  family('telephony', 'billingAccount'),
  family('telephony/aliases'),
  family('telephony/lines'),
  family('telephony/trunks'),
  family('vps'),
  family('xdsl'),
];

const byType = new Map(SERVICE_TYPES.map((serviceType) => [serviceType.type, serviceType]));

export function isServiceType(type: string): boolean {
  return byType.has(type);
}
