// Read access at a management group, for a sweep over every subscription below it. Built-in
// roles only: a custom role at a management group would need the deployer to own it.
// Reader here is broader than the custom role at the subscriptions (it reads resource
// configuration too); docs/deploy.md says so. Enforce mode revokes only at the watched
// subscriptions, where events arrive: no delete right here.
targetScope = 'managementGroup'

param principalId string

var readerRole = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'

resource read 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(managementGroup().id, principalId, readerRole)
  properties: {
    roleDefinitionId: tenantResourceId('Microsoft.Authorization/roleDefinitions', readerRole)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'grantguard: read role assignments below this management group'
  }
}
