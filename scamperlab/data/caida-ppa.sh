sudo add-apt-repository -y ppa:matthewluckie/scamper
sudo apt-get update
sudo apt-get install -y scamper scamper-remoted scamper-utils python3-scamper
