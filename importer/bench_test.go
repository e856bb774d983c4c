package importer

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// genEstate writes CLI-shaped JSON (az network vnet/nsg/nic list, az vm list -d) for nics NICs
// (one VM each) in vnets VNets of 10 subnets, and nsgs NSGs of 5 custom rules (plus the 6 default
// rules Azure prints), half attached to subnets, the others to NICs. Objects carry the fields az
// prints, nulls included, so the sizes are realistic.
func genEstate(nics, nsgs, vnets int) []Input {
	const sub = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/"
	const etag = `"etag": "W/\"6b5a3c1e-2d4f-4a8b-9c0d-1e2f3a4b5c6d\""`
	nsgID := func(i int) string {
		return fmt.Sprintf("%srg-%d/providers/Microsoft.Network/networkSecurityGroups/nsg-%d", sub, i%7, i)
	}
	subnetID := func(v, s int) string {
		return fmt.Sprintf("%srg-net/providers/Microsoft.Network/virtualNetworks/vnet-%d/subnets/snet-%d", sub, v, s)
	}
	var vb, nb, cb, mb bytes.Buffer
	vb.WriteString("[\n")
	for v := range vnets {
		if v > 0 {
			vb.WriteString(",\n")
		}
		fmt.Fprintf(&vb, `{"addressSpace": {"addressPrefixes": ["10.%d.0.0/16"]}, "bgpCommunities": null, "ddosProtectionPlan": null,
  "dhcpOptions": {"dnsServers": []}, "enableDdosProtection": false, %s,
  "id": "%srg-net/providers/Microsoft.Network/virtualNetworks/vnet-%d", "location": "westeurope", "name": "vnet-%d",
  "provisioningState": "Succeeded", "resourceGroup": "rg-net", "subnets": [`, v%250, etag, sub, v, v)
		for s := range 10 {
			if s > 0 {
				vb.WriteString(", ")
			}
			nsg := "null"
			if k := v*10 + s; k < nsgs/2 {
				nsg = fmt.Sprintf(`{"id": "%s", "resourceGroup": "rg-%d"}`, nsgID(k), k%7)
			}
			fmt.Fprintf(&vb, `{"addressPrefix": "10.%d.%d.0/24", "addressPrefixes": null, "delegations": [], %s, "id": "%s",
    "ipConfigurations": null, "name": "snet-%d", "networkSecurityGroup": %s, "privateEndpointNetworkPolicies": "Disabled",
    "privateLinkServiceNetworkPolicies": "Enabled", "provisioningState": "Succeeded", "resourceGroup": "rg-net", "routeTable": null,
    "type": "Microsoft.Network/virtualNetworks/subnets"}`, v%250, s, etag, subnetID(v, s), s, nsg)
		}
		fmt.Fprintf(&vb, `], "tags": {}, "type": "Microsoft.Network/virtualNetworks", "virtualNetworkPeerings": []}`)
	}
	vb.WriteString("\n]\n")

	rule := func(b *bytes.Buffer, nsg, name string, prio int, dir, access, src, dport string, def bool) {
		kind := "securityRules"
		if def {
			kind = "defaultSecurityRules"
		}
		fmt.Fprintf(b, `{"access": "%s", "description": null, "destinationAddressPrefix": "*", "destinationAddressPrefixes": [],
      "destinationPortRange": "%s", "destinationPortRanges": [], "direction": "%s", %s, "id": "%s/%s/%s", "name": "%s",
      "priority": %d, "protocol": "Tcp", "provisioningState": "Succeeded", "resourceGroup": "rg", "sourceAddressPrefix": "%s",
      "sourceAddressPrefixes": [], "sourcePortRange": "*", "sourcePortRanges": [], "type": "Microsoft.Network/networkSecurityGroups/%s"}`,
			access, dport, dir, etag, nsg, kind, name, name, prio, src, kind)
	}
	nb.WriteString("[\n")
	for i := range nsgs {
		if i > 0 {
			nb.WriteString(",\n")
		}
		id := nsgID(i)
		fmt.Fprintf(&nb, `{"defaultSecurityRules": [`)
		for j, d := range [][3]string{{"AllowVnetInBound", "Inbound", "Allow"}, {"AllowAzureLoadBalancerInBound", "Inbound", "Allow"},
			{"DenyAllInBound", "Inbound", "Deny"}, {"AllowVnetOutBound", "Outbound", "Allow"}, {"AllowInternetOutBound", "Outbound", "Allow"},
			{"DenyAllOutBound", "Outbound", "Deny"}} {
			if j > 0 {
				nb.WriteString(", ")
			}
			rule(&nb, id, d[0], 65000+j%3, d[1], d[2], "*", "*", true)
		}
		fmt.Fprintf(&nb, `], %s, "id": "%s", "location": "westeurope", "name": "nsg-%d", "networkInterfaces": null,
  "provisioningState": "Succeeded", "resourceGroup": "rg-%d", "securityRules": [`, etag, id, i, i%7)
		for j := range 5 {
			if j > 0 {
				nb.WriteString(", ")
			}
			rule(&nb, id, fmt.Sprintf("rule-%d", j), 100+10*j, "Inbound", "Allow", fmt.Sprintf("10.%d.0.0/16", j), fmt.Sprint(8000+j), false)
		}
		nb.WriteString(`], "subnets": null, "tags": {}, "type": "Microsoft.Network/networkSecurityGroups"}`)
	}
	nb.WriteString("\n]\n")

	cb.WriteString("[\n")
	mb.WriteString("[\n")
	for i := range nics {
		if i > 0 {
			cb.WriteString(",\n")
			mb.WriteString(",\n")
		}
		v, s, h := i/100%vnets, i/10%10, i%10+4
		nicID := fmt.Sprintf("%srg-app/providers/Microsoft.Network/networkInterfaces/vm-%d-nic", sub, i)
		vmID := fmt.Sprintf("%sRG-APP/providers/Microsoft.Compute/virtualMachines/vm-%d", sub, i)
		nsg := "null"
		if k := nsgs/2 + i; k < nsgs {
			nsg = fmt.Sprintf(`{"id": "%s", "resourceGroup": "rg-%d"}`, nsgID(k), k%7)
		}
		fmt.Fprintf(&cb, `{"auxiliaryMode": null, "disableTcpStateTracking": false, "dnsSettings": {"appliedDnsServers": [], "dnsServers": [],
  "internalDomainNameSuffix": "x1y2z3.ax.internal.cloudapp.net"}, "enableAcceleratedNetworking": false, "enableIpForwarding": false,
  %s, "hostedWorkloads": [], "id": "%s", "ipConfigurations": [{"applicationSecurityGroups": null, %s,
    "id": "%s/ipConfigurations/ipconfig1", "loadBalancerBackendAddressPools": null, "name": "ipconfig1", "primary": true,
    "privateIpAddress": "10.%d.%d.%d", "privateIpAddressVersion": "IPv4", "privateIpAllocationMethod": "Dynamic",
    "provisioningState": "Succeeded", "publicIpAddress": null, "resourceGroup": "rg-app",
    "subnet": {"id": "%s", "resourceGroup": "rg-net"}, "type": "Microsoft.Network/networkInterfaces/ipConfigurations"}],
  "location": "westeurope", "macAddress": "00-0D-3A-2B-4C-5D", "name": "vm-%d-nic", "networkSecurityGroup": %s, "nicType": "Standard",
  "primary": true, "provisioningState": "Succeeded", "resourceGroup": "rg-app", "tags": {}, "tapConfigurations": [],
  "type": "Microsoft.Network/networkInterfaces", "virtualMachine": {"id": "%s", "resourceGroup": "RG-APP"}}`,
			etag, nicID, etag, nicID, v%250, s, h, subnetID(v, s), i, nsg, vmID)
		fmt.Fprintf(&mb, `{"additionalCapabilities": null, "availabilitySet": null, "diagnosticsProfile": {"bootDiagnostics": {"enabled": true}},
  "fqdns": "", "hardwareProfile": {"vmSize": "Standard_B2s"}, "id": "%s", "location": "westeurope", "name": "vm-%d",
  "networkProfile": {"networkInterfaces": [{"deleteOption": "Delete", "id": "%s", "primary": null, "resourceGroup": "rg-app"}]},
  "osProfile": {"adminUsername": "azureuser", "computerName": "vm-%d", "linuxConfiguration": {"disablePasswordAuthentication": true}},
  "powerState": "VM running", "privateIps": "10.%d.%d.%d", "provisioningState": "Succeeded", "publicIps": "", "resourceGroup": "RG-APP",
  "storageProfile": {"imageReference": {"offer": "0001-com-ubuntu-server-jammy", "publisher": "Canonical", "sku": "22_04-lts-gen2"},
    "osDisk": {"caching": "ReadWrite", "createOption": "FromImage", "name": "vm-%d_OsDisk", "osType": "Linux"}},
  "tags": {}, "type": "Microsoft.Compute/virtualMachines", "vmId": "2b3c4d5e-6f70-4819-a2b3-c4d5e6f70819", "zones": null}`,
			vmID, i, nicID, i, v%250, s, h, i)
	}
	cb.WriteString("\n]\n")
	mb.WriteString("\n]\n")
	return []Input{
		{Name: "vnets.json", Data: vb.Bytes()},
		{Name: "nsgs.json", Data: nb.Bytes()},
		{Name: "nics.json", Data: cb.Bytes()},
		{Name: "vms.json", Data: mb.Bytes()},
	}
}

var (
	bigOnce  sync.Once
	bigInput []Input
)

func bigEstate() []Input {
	bigOnce.Do(func() { bigInput = genEstate(10000, 2000, 1000) })
	return bigInput
}

// BenchmarkImport10k imports 10,000 NICs (and their 10,000 VMs), 2,000 NSGs and 1,000 VNets of
// CLI-shaped JSON. Target (issue 4): at most 3 s per import.
func BenchmarkImport10k(b *testing.B) {
	ins := bigEstate()
	size := 0
	for _, in := range ins {
		size += len(in.Data)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, err := Import(ins)
		if err != nil {
			b.Fatal(err)
		}
		if out.Stats.NICs != 10000 || out.Stats.NSGs != 2000 {
			b.Fatalf("stats %+v", out.Stats)
		}
	}
}

// TestImportLargeEstate checks the generated estate imports whole, without warnings, and well
// within the target time even in a plain test run.
func TestImportLargeEstate(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	out := mustImport(t, bigEstate())
	want := Stats{Files: 4, VNets: 1000, Subnets: 10000, NSGs: 2000, Rules: 10000, VMs: 10000, NICs: 10000, IPConfigs: 10000}
	if out.Stats != want {
		t.Errorf("stats = %+v, want %+v", out.Stats, want)
	}
	if len(out.Warnings) > 0 {
		t.Errorf("%d warnings, first: %s", len(out.Warnings), out.Warnings[0])
	}
}
